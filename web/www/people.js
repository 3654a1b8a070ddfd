/*
 * People: who is enrolled, with roles, state and security keys, for
 * admins and auditors; admins suspend a person here, at once, and make
 * new-key invitations for someone whose keys are lost or refused.
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

	var ACTIONS = {
		suspend: { ask: "Suspend...", sure: "Suspend ", state:
		    "suspended", done: " is suspended: no more sign-in, " +
		    "request or approval.", what: "The suspension" },
		leave: { ask: "Record as left...", sure: "Record that ",
		    state: "left", done: " is recorded as left: no more " +
		    "sign-in, request or approval, and the service accounts " +
		    "they own are listed for reassignment.", what: "Recording " +
		    "the leaver" }
	};

	/* The accounts the answer says now need another owner, in words. */
	function owned(r) {
		var list = (r && r.accounts_to_reassign) || [];

		return list.length === 0 ? "" : " They own " + list.join(", ") +
		    ": give these service accounts another owner in the " +
		    "inventory.";
	}

	/* Two steps, so that one stray tap takes no one's access away. */
	function inactiveControls(p, box, state, action, done) {
		var a = ACTIONS[action], wrap = el("div"), ask, sure;

		ask = el("button", { type: "button", "class": "danger",
		    text: a.ask });
		sure = el("button", { type: "button", "class": "danger",
		    hidden: true, text: action === "leave" ? a.sure + p.name +
		    " left" : a.sure + p.name + " now" });
		ask.addEventListener("click", function () {
			ask.hidden = true;
			sure.hidden = false;
			sure.focus();
		});
		sure.addEventListener("click", async function () {
			var r;

			sure.disabled = true;
			try {
				r = await tk.api("POST", "/api/v1/people/" +
				    p.id + "/" + action);
				tk.say(box, "ok", p.name + a.done + owned(r));
				state.textContent = a.state;
				done();
			} catch (e) {
				tk.say(box, "error", a.what + " was " +
				    "refused: " + tk.describe(e));
				sure.disabled = false;
			}
		});
		wrap.appendChild(ask);
		wrap.appendChild(sure);
		return wrap;
	}

	function governed(p) {
		return p.roles.some(function (r) {
			return r === "admin" || r === "approver" ||
			    r === "commander";
		});
	}

	/* A labelled text input, its id prefixed by the person's card. */
	function field(wrap, id, label, max) {
		var input = el("input", { type: "text", id: id,
		    maxlength: String(max), autocomplete: "off" });

		wrap.appendChild(el("label", { "for": id, text: label }));
		wrap.appendChild(input);
		return input;
	}

	/*
	 * A new-key invitation: the one-time link with which p registers one
	 * more key. For a governed person it needs a reason and a ticket,
	 * and the key then waits for the approvers.
	 */
	function newKeyControls(p, box) {
		var wrap = el("div", { "class": "newkey" }), ask, form, make;
		var pre = "newkey-" + p.id, reason = null, ticket = null;

		ask = el("button", { type: "button", "class": "secondary",
		    text: "New key invitation..." });
		form = el("div", { hidden: true });
		if (governed(p)) {
			form.appendChild(el("p", { "class": "hint", text:
			    p.name + " can approve, ask for break-glass or " +
			    "administer: the new key waits for two approvers " +
			    "other than you and " + p.name + "." }));
			reason = field(form, pre + "-reason", "Why does " +
			    p.name + " need a new key?", 1024);
			ticket = field(form, pre + "-ticket", "Ticket", 128);
		}
		make = el("button", { type: "button", text: "Make the " +
		    "invitation" });
		form.appendChild(make);
		ask.addEventListener("click", function () {
			ask.hidden = true;
			form.hidden = false;
			(reason || make).focus();
		});
		make.addEventListener("click", function () {
			makeInvitation(p, box, form, reason, ticket, make);
		});
		wrap.appendChild(ask);
		wrap.appendChild(form);
		return wrap;
	}

	async function makeInvitation(p, box, form, reason, ticket, make) {
		var body = {}, r, link, out;

		if (reason !== null) {
			body.reason = reason.value.trim();
			body.ticket = ticket.value.trim();
			if (body.reason === "" || body.ticket === "") {
				tk.say(box, "error", "A new key for " + p.name +
				    " needs the quorum: give the reason and " +
				    "the ticket the approvers will see.");
				(body.reason === "" ? reason : ticket).focus();
				return;
			}
		}
		make.disabled = true;
		try {
			r = await tk.api("POST", "/api/v1/people/" + p.id +
			    "/invitation", body);
		} catch (e) {
			tk.say(box, "error", "The invitation was refused: " +
			    tk.describe(e));
			make.disabled = false;
			return;
		}
		link = location.origin + "/enroll.html#" + r.invitation;
		form.textContent = "";
		form.appendChild(el("label", { "for": "newkey-link-" + p.id,
		    text: "New key link for " + p.name }));
		out = el("input", { type: "text", readonly: "readonly",
		    id: "newkey-link-" + p.id, "class": "link" });
		out.value = link;
		form.appendChild(out);
		tk.say(box, "ok", "Give " + p.name + " this link, single use, " +
		    "valid until " + new Date(r.expires * 1000).toISOString()
		    .slice(0, 16).replace("T", " ") + " UTC; any older one is " +
		    "void. Copy it now: it is not shown again." +
		    (reason !== null ? " The key then waits for the " +
		    "approvers." : ""));
	}

	/*
	 * What an admin may do about p: suspend and new keys while active,
	 * record as left until then. Once p's state changes, the card offers
	 * what fits the new state only after a refresh, so all of it goes.
	 */
	function actions(p, box, state) {
		var wrap = el("div", { "class": "actions" });
		var gone = function () { wrap.hidden = true; };

		if (!tk.hasRole(me, "admin") || p.name === me.name)
			return wrap;
		if (p.state === "active")
			wrap.appendChild(inactiveControls(p, box, state,
			    "suspend", gone));
		if (p.state !== "left")
			wrap.appendChild(inactiveControls(p, box, state,
			    "leave", gone));
		if (p.state === "active")
			wrap.appendChild(newKeyControls(p, box));
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
		art.appendChild(actions(p, box, state));
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
