/*
 * People: who is enrolled, with roles, state and security keys, for
 * admins and auditors; admins suspend a person here, at once.
 */
"use strict";

(function () {
	var el = tk.el, fact = tk.fact, me = null;

	function keys(p) {
		var n = p.credentials.length, flagged = 0;

		p.credentials.forEach(function (c) {
			if (c.cloned || c.revoked)
				flagged++;
		});
		return n + (n === 1 ? " key" : " keys") + (flagged > 0 ?
		    ", " + flagged + " revoked or flagged as possibly cloned " +
		    "(refused)" :
		    "");
	}

	/* Two steps, so that one stray tap suspends no one. */
	function suspendControls(p, box, state) {
		var wrap = el("div"), ask, sure;

		ask = el("button", { type: "button", "class": "danger",
		    text: "Suspend..." });
		sure = el("button", { type: "button", "class": "danger",
		    hidden: true, text: "Suspend " + p.name + " now" });
		ask.addEventListener("click", function () {
			ask.hidden = true;
			sure.hidden = false;
			sure.focus();
		});
		sure.addEventListener("click", async function () {
			sure.disabled = true;
			try {
				await tk.api("POST", "/api/v1/people/" + p.id +
				    "/suspend");
				tk.say(box, "ok", p.name + " is suspended: " +
				    "no more sign-in, request or approval.");
				state.textContent = "suspended";
				sure.hidden = true;
			} catch (e) {
				tk.say(box, "error", "The suspension was " +
				    "refused: " + tk.describe(e));
				sure.disabled = false;
			}
		});
		wrap.appendChild(ask);
		wrap.appendChild(sure);
		return wrap;
	}

	function card(p) {
		var id = "person-" + p.id, dl, box, state;
		var art = el("article", { "class": "card", id: id,
		    "aria-labelledby": id + "-h" });

		art.appendChild(el("h2", { id: id + "-h", text: p.name }));
		dl = el("dl", { "class": "facts" });
		fact(dl, "Id", String(p.id));
		fact(dl, "Team", p.team);
		fact(dl, "Roles", p.roles.join(", "));
		state = fact(dl, "State", p.state);
		state.className = "state";
		fact(dl, "Security keys", keys(p));
		art.appendChild(dl);
		box = el("div", { "class": "msg", "aria-live": "polite" });
		if (p.state === "active" && tk.hasRole(me, "admin") &&
		    p.name !== me.name)
			art.appendChild(suspendControls(p, box, state));
		art.appendChild(box);
		return art;
	}

	async function load() {
		var list = document.getElementById("list"), r;

		try {
			r = await tk.api("GET", "/api/v1/people");
		} catch (e) {
			tk.say(document.getElementById("msg"), "error",
			    "The list of people could not be read: " +
			    tk.describe(e));
			return;
		}
		list.textContent = "";
		r.people.forEach(function (p) {
			list.appendChild(card(p));
		});
	}

	document.addEventListener("DOMContentLoaded", async function () {
		if ((me = await tk.requireSession("people.html")) === null)
			return;
		document.getElementById("reload").addEventListener("click",
		    load);
		load();
	});
}());
