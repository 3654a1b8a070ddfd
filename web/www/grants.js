/*
 * Grants: what was granted to whom until when; the token for the person
 * who asked; the post-incident review; revocation.
 */
"use strict";

(function () {
	var el = tk.el, fact = tk.fact, me = null;

	async function showToken(g, box, out) {
		var r;

		try {
			r = await tk.api("GET", "/api/v1/requests/" +
			    g.request_id + "/grant");
			out.value = r.token;
			out.hidden = false;
			out.focus();
		} catch (e) {
			tk.say(box, "error", "The token could not be read: " +
			    tk.describe(e));
		}
	}

	function reviewForm(g, box) {
		var id = "review-" + g.request_id;
		var text = el("textarea", { id: id, maxlength: "1024" });
		var form = el("form", { "class": "review-form" },
		    el("label", { "for": id, text: "Post-incident review: " +
		    "what happened, what the access was used for" }), text,
		    el("button", { type: "submit", text: "File review" }));

		form.addEventListener("submit", async function (ev) {
			ev.preventDefault();
			if (text.value.trim() === "") {
				tk.say(box, "error", "Write the review first.");
				text.focus();
				return;
			}
			try {
				await tk.api("POST", "/api/v1/requests/" +
				    g.request_id + "/review",
				    { text: text.value.trim() });
				tk.say(box, "ok", "The review is filed.");
				form.hidden = true;
			} catch (e) {
				tk.say(box, "error", "The review was refused: " +
				    tk.describe(e));
			}
		});
		return form;
	}

	/*
	 * Two steps, as suspending on the People page: a revoked grant
	 * cannot be given back, and one stray tap must not end someone's
	 * access in the middle of an incident.
	 */
	function revokeControls(g, box, state) {
		var wrap = el("div"), ask, sure;

		ask = el("button", { type: "button", "class": "danger",
		    text: "Revoke..." });
		sure = el("button", { type: "button", "class": "danger",
		    hidden: true, text: "Revoke " + g.requester +
		    "'s grant now" });
		ask.addEventListener("click", function () {
			ask.hidden = true;
			sure.hidden = false;
			sure.focus();
		});
		sure.addEventListener("click", async function () {
			sure.disabled = true;
			try {
				await tk.api("POST", "/api/v1/grants/" +
				    g.jti + "/revoke");
				tk.say(box, "ok", "Grant revoked: its token " +
				    "is refused from now on.");
				state.textContent = "revoked";
				sure.hidden = true;
			} catch (e) {
				tk.say(box, "error", "Revocation refused: " +
				    tk.describe(e));
				sure.disabled = false;
			}
		});
		wrap.appendChild(ask);
		wrap.appendChild(sure);
		return wrap;
	}

	function card(g) {
		var id = "grant-" + g.request_id, dl, box, mine, out, show;
		var state;
		var art = el("article", { "class": "card" + (g.kind ===
		    "break-glass" ? " breakglass" : ""), id: id,
		    "aria-labelledby": id + "-h" });

		art.appendChild(el("h2", { id: id + "-h", text: "Grant for " +
		    "request " + g.request_id + ": " + g.kind }));
		dl = el("dl", { "class": "facts" });
		fact(dl, "Granted to", g.requester);
		state = fact(dl, "State", g.state);
		state.className = "state";
		fact(dl, "Issued", tk.when(g.issued));
		fact(dl, "Expires", el("span", { "class": "expires",
		    text: tk.when(g.expires) }));
		if (g.revoked)
			fact(dl, "Revoked", tk.when(g.revoked));
		if (g.review_due)
			fact(dl, "Review", g.review_filed ? "filed " +
			    tk.when(g.review_filed) : "due " +
			    tk.when(g.review_due));
		fact(dl, "Token id", el("code", { text: g.jti }));
		art.appendChild(dl);
		box = el("div", { "class": "msg", "aria-live": "polite" });
		mine = me && g.requester === me.name;
		if (mine && g.state === "active") {
			out = el("textarea", { "class": "token", readonly:
			    "readonly", hidden: true, "aria-label": "Token" });
			show = el("button", { type: "button", text:
			    "Show my token" });
			show.addEventListener("click", function () {
				showToken(g, box, out);
			});
			art.appendChild(show);
			art.appendChild(out);
		}
		if (g.state === "active" && (tk.hasRole(me, "admin") ||
		    tk.hasRole(me, "approver") || tk.hasRole(me, "commander")))
			art.appendChild(revokeControls(g, box, state));
		if (mine && g.review_due && !g.review_filed)
			art.appendChild(reviewForm(g, box));
		art.appendChild(box);
		return art;
	}

	async function load() {
		var list = document.getElementById("list"), r;

		try {
			r = await tk.api("GET", "/api/v1/grants");
		} catch (e) {
			tk.say(document.getElementById("msg"), "error",
			    "The grants could not be read: " + tk.describe(e));
			return;
		}
		list.textContent = "";
		if (r.grants.length === 0)
			list.appendChild(el("p", { text: "No grants yet." }));
		r.grants.forEach(function (g) {
			list.appendChild(card(g));
		});
	}

	document.addEventListener("DOMContentLoaded", async function () {
		if ((me = await tk.requireSession("grants.html")) === null)
			return;
		document.getElementById("reload").addEventListener("click",
		    load);
		load();
	});
}());
