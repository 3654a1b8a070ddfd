/*
 * Pending requests and governed changes, each with everything that
 * matters before signing (for a change: what it does, its before/after
 * diff, why, the ticket, who proposed it), and the approve and reject
 * ceremonies: the server's challenge for this request and this decision,
 * one key touch, the vote. A change's challenge is bound to the digest
 * of exactly the diff shown.
 */
"use strict";

(function () {
	var el = tk.el;
	/* Members shown in their own rows; any other is shown as it is. */
	var KNOWN = ["v", "kind", "requester", "rid", "created", "ttl",
	    "duration", "service_account", "connector", "incident", "reason",
	    "ticket", "scopes"];

	function fact(dl, term, value) {
		if (value === undefined || value === null || value === "")
			return;
		dl.appendChild(el("dt", { text: term }));
		dl.appendChild(typeof value === "string" ?
		    el("dd", { text: value }) : el("dd", {}, value));
	}

	/* Scopes, each marked against the policy's template. */
	function scopes(list, template) {
		var box = el("div");

		(list || []).forEach(function (s) {
			var inside = Array.isArray(template) &&
			    template.indexOf(s) >= 0;
			var cls = template === null ? "tag" : inside ?
			    "tag inside" : "tag outside";

			box.appendChild(el("span", { "class": cls, text: s }));
		});
		box.appendChild(el("p", { "class": "hint", text:
		    template === null ? "The policy has no scope template " +
		    "for this connector." : "Template allows: " +
		    (template.length ? template.join(", ") : "nothing") }));
		return box;
	}

	function show(v) {
		return typeof v === "string" ? v : JSON.stringify(v);
	}

	/* A value on one line: strings bare, lists of strings joined. */
	function plain(v) {
		if (v === undefined)
			return "(none)";
		if (Array.isArray(v) && v.length > 0 && v.every(function (e) {
			return typeof e === "string";
		}))
			return v.join(", ");
		return show(v);
	}

	function isObject(v) {
		return v !== null && typeof v === "object" && !Array.isArray(v);
	}

	/*
	 * before and after member by member, as the CLI shows them: plain
	 * values first, then nested objects under dotted names
	 * (credential.aaguid), rows that stay the same marked so.
	 */
	function diffRows(prefix, b, a, depth, rows) {
		var keys = Object.keys(b || {}).concat(Object.keys(a || {}))
		    .filter(function (k, i, all) {
			return all.indexOf(k) === i;
		}).sort();
		var deep = function (k) {
			var vb = (b || {})[k], va = (a || {})[k];

			return depth < 4 && (isObject(vb) || isObject(va)) &&
			    (vb === undefined || isObject(vb)) &&
			    (va === undefined || isObject(va));
		};

		keys.filter(function (k) { return !deep(k); }).forEach(
		    function (k) {
			rows.push([prefix + k, (b || {})[k], (a || {})[k]]);
		});
		keys.filter(deep).forEach(function (k) {
			diffRows(prefix + k + ".", (b || {})[k], (a || {})[k],
			    depth + 1, rows);
		});
	}

	/*
	 * The diff as a table. Something new (nothing before, as for an
	 * enrollment) is shown as its values alone: a column of "(none)"
	 * only crowds a phone's screen.
	 */
	function diffTable(q) {
		var t = el("table", { "class": "diff" }), body = el("tbody");
		var rows = [], added = Object.keys(q.before || {}).length === 0;

		t.appendChild(el("caption", { text: added ? "What changes: " +
		    "nothing before; after the change" : "What changes: " +
		    "before and after" }));
		t.appendChild(el("thead", {}, added ? el("tr", {},
		    el("th", { scope: "col", text: "Field" }),
		    el("th", { scope: "col", text: "After" })) : el("tr", {},
		    el("th", { scope: "col", text: "Field" }),
		    el("th", { scope: "col", text: "Before" }),
		    el("th", { scope: "col", text: "After" }))));
		diffRows("", q.before, q.after, 0, rows);
		rows.forEach(function (r) {
			var same = JSON.stringify(r[1]) ===
			    JSON.stringify(r[2]);
			var tr = el("tr", { "class": same ? "same" :
			    "changed" }, el("th", { scope: "row",
			    text: r[0] }));

			if (!added)
				tr.appendChild(el("td", { "class": same ? "" :
				    "before", text: plain(r[1]) }));
			tr.appendChild(el("td", { "class": same ? "" : "after",
			    text: same ? "(unchanged)" : plain(r[2]) }));
			body.appendChild(tr);
		});
		t.appendChild(body);
		return t;
	}

	/* What the change does, in one sentence. */
	function summary(q) {
		var a = q.after || {}, b = q.before || {};
		var keys = Object.keys(a).filter(function (k) {
			return k !== "name";
		});

		switch (q.type) {
		case "person.enroll":
			return "Enroll " + a.name + " (team " + a.team +
			    ") with the roles " + plain(a.roles) + " and " +
			    "the security key they registered.";
		case "credential.add":
			return "Add a security key to " + a.name + ".";
		case "person.update":
			return "Change " + a.name + "'s " + keys.join(" and ") +
			    ".";
		case "person.reactivate":
			return "Reactivate " + a.name + " (now " + b.state +
			    ").";
		case "policy.set":
			return "Change the policy: " +
			    Object.keys(a).join(", ") + ".";
		case "inventory.import":
			return "Import the service-account inventory.";
		default:
			return q.type + " on " + q.target + ".";
		}
	}

	function votes(list) {
		var ul;

		if (!list || list.length === 0)
			return "No one yet.";
		ul = el("ul");
		list.forEach(function (v) {
			ul.appendChild(el("li", { text: v.person + " (" +
			    v.team + ") " + (v.decision === "approve" ?
			    "approved" : "rejected") + " " + tk.when(v.at) +
			    (v.reason ? ": " + v.reason : "") }));
		});
		return ul;
	}

	function facts(r) {
		var q = r.request || {}, dl = el("dl", { "class": "facts" });

		fact(dl, "Asked by", (r.requester_name || q.requester) +
		    (r.requester_team ? " (team " + r.requester_team + ")" :
		    "") + (r.requester_state && r.requester_state !==
		    "active" ? ", " + r.requester_state + " since" : ""));
		fact(dl, "Kind", r.kind);
		fact(dl, "Incident", q.incident);
		fact(dl, "Ticket", q.ticket);
		fact(dl, "Service account", q.service_account);
		fact(dl, "Connector", q.connector);
		fact(dl, "Scopes", scopes(q.scopes, r.template === undefined ?
		    null : r.template));
		if (q.ttl !== undefined)
			fact(dl, "For how long", tk.duration(q.ttl) +
			    " from the grant");
		if (q.duration !== undefined)
			fact(dl, "For how long", tk.duration(q.duration) +
			    " from the grant");
		fact(dl, "Why", q.reason);
		Object.keys(q).forEach(function (k) {
			if (KNOWN.indexOf(k) < 0)
				fact(dl, k, show(q[k]));
		});
		fact(dl, "Asked at", tk.when(r.created));
		fact(dl, "Open until", tk.when(r.expires));
		fact(dl, "Decided so far", votes(r.votes));
		fact(dl, "Request digest", el("code", { text: r.digest }));
		return dl;
	}

	function approvalsSoFar(r) {
		var n = (r.votes || []).filter(function (v) {
			return v.decision === "approve";
		}).length;
		var box = el("div", {}, el("p", { "class": "count",
		    text: n + " of the " + tk.quorum() + " approvals needed " +
		    "(the proposer's own never counts)" }));
		var v = votes(r.votes);

		box.appendChild(typeof v === "string" ? el("p", { text: v }) :
		    v);
		return box;
	}

	function changeFacts(r) {
		var q = r.request || {}, dl = el("dl", { "class": "facts" });
		var me = tk.person();

		fact(dl, "What", summary(q));
		fact(dl, "Proposed by", (r.requester_name || q.requester) +
		    (r.requester_team ? " (team " + r.requester_team + ")" :
		    "") + (me && me.name === (r.requester_name ||
		    q.requester) ? ", that is you" : "") +
		    (r.requester_state && r.requester_state !== "active" ?
		    ", " + r.requester_state + " since" : ""));
		fact(dl, "Type", q.type);
		fact(dl, "Target", q.target);
		fact(dl, "Why", q.reason);
		fact(dl, "Ticket", q.ticket);
		fact(dl, "Proposed at", tk.when(r.created));
		fact(dl, "Open until", tk.when(r.expires));
		fact(dl, "Approvals so far", approvalsSoFar(r));
		fact(dl, "Change digest", el("code", { text: r.digest }));
		return dl;
	}

	/* The refusal in words; a proposer is told why plainly. */
	function refusal(r, e) {
		if (r.kind === "change" && e instanceof tk.ApiError &&
		    e.code === "self_approval")
			return e.message + " (self_approval). You proposed " +
			    "this change yourself: it needs " +
			    tk.count(tk.quorum()) + " approvers other than " +
			    "you.";
		return tk.describe(e);
	}

	/* One decision: challenge, key touch, vote. */
	async function decide(r, decision, reason, box, buttons) {
		var path = "/api/v1/requests/" + r.id, ch, a, res;
		var noun = r.kind === "change" ? "change" : "request";

		buttons.forEach(function (b) { b.disabled = true; });
		tk.say(box, "info", "Touch your security key to " + decision +
		    " " + noun + " " + r.id + ".");
		try {
			ch = await tk.api("POST", path + "/challenge",
			    { decision: decision });
			a = await tk.keyAssert(ch.challenge, ch.rp_id);
			if (reason)
				a.reason = reason;
			res = await tk.api("POST", path + "/votes", a);
			tk.say(box, "ok", (decision === "approve" ?
			    "Your approval is recorded. " : "Your rejection " +
			    "is recorded. ") + "The " + noun + " is now " +
			    res.state + " (" + res.approvals +
			    " approval" + (res.approvals === 1 ? "" : "s") +
			    " counted).");
		} catch (e) {
			tk.say(box, "error", "Your " + (decision === "approve" ?
			    "approval" : "rejection") + " was refused: " +
			    refusal(r, e));
		}
		buttons.forEach(function (b) { b.disabled = false; });
	}

	/*
	 * Approve and Reject, for approvers only: the server counts no one
	 * else's vote, on a request or on a change (approvals/quorum.c), so
	 * anyone else is told so on the card rather than refused after a
	 * key touch.
	 */
	function voting(r, id) {
		if (tk.hasRole(tk.person(), "approver"))
			return ballot(r, id);
		return el("p", { "class": "hint no-vote", text: "You can " +
		    "follow this " + (r.kind === "change" ? "change" :
		    "request") + "; approving is for approvers." });
	}

	/* The approve button and the reject form with its reason. */
	function ballot(r, id) {
		var wrap = el("div"), box, approve, reject, form, reason;

		box = el("div", { "class": "msg", "aria-live": "polite" });
		approve = el("button", { type: "button", "class": "approve",
		    text: "Approve with security key" });
		reject = el("button", { type: "button", "class": "danger",
		    text: "Reject..." });
		reason = el("textarea", { id: id + "-reason", maxlength: "1024",
		    required: "required" });
		form = el("form", { hidden: true, "class": "reject-form" },
		    el("label", { "for": id + "-reason",
		    text: "Why do you reject it?" }), reason,
		    el("button", { type: "submit", "class": "danger",
		    text: "Reject with security key" }));
		approve.addEventListener("click", function () {
			decide(r, "approve", null, box, [approve, reject]);
		});
		reject.addEventListener("click", function () {
			form.hidden = false;
			reason.focus();
		});
		form.addEventListener("submit", function (ev) {
			ev.preventDefault();
			if (reason.value.trim() === "") {
				tk.say(box, "error", "Say why you reject it " +
				    "first.");
				reason.focus();
				return;
			}
			/* The server counts UTF-8 bytes: told before the
			 * touch, not after it. */
			if (new TextEncoder().encode(reason.value.trim())
			    .length > 1024) {
				tk.say(box, "error", "The reason is too long: " +
				    "at most 1024 bytes, fewer letters when " +
				    "they carry accents or are not Latin.");
				reason.focus();
				return;
			}
			decide(r, "reject", reason.value.trim(), box,
			    [approve, reject]);
		});
		wrap.appendChild(approve);
		wrap.appendChild(reject);
		wrap.appendChild(form);
		wrap.appendChild(box);
		return wrap;
	}

	function card(r) {
		var id = "req-" + r.id;
		var art = el("article", { "class": "card" + (r.kind ===
		    "break-glass" ? " breakglass" : r.kind === "change" ?
		    " change" : ""), id: id,
		    "aria-labelledby": id + "-h" });

		if (r.kind === "change") {
			art.appendChild(el("h2", { id: id + "-h",
			    text: "Change " + r.id + ": " +
			    (r.request || {}).type }));
			art.appendChild(changeFacts(r));
			art.appendChild(diffTable(r.request || {}));
		} else {
			art.appendChild(el("h2", { id: id + "-h", text:
			    "Request " + r.id + ": " + r.kind }));
			art.appendChild(facts(r));
		}
		art.appendChild(voting(r, id));
		return art;
	}

	async function load() {
		var list = document.getElementById("list");
		var msg = document.getElementById("msg"), r;

		try {
			r = await tk.api("GET", "/api/v1/requests");
		} catch (e) {
			tk.say(msg, "error", "The requests could not be " +
			    "read: " + tk.describe(e));
			return;
		}
		list.textContent = "";
		if (r.pending.length === 0)
			list.appendChild(el("p", { id: "none", text:
			    "Nothing is waiting for a decision." }));
		r.pending.forEach(function (q) {
			list.appendChild(card(q));
		});
	}

	document.addEventListener("DOMContentLoaded", async function () {
		if (await tk.requireSession("requests.html") === null)
			return;
		document.getElementById("reload").addEventListener("click",
		    load);
		load();
	});
}());
