/*
 * Pending requests, each with everything that matters before signing,
 * and the approve and reject ceremonies: the server's challenge for this
 * request and this decision, one key touch, the vote.
 */
"use strict";

(function () {
	var el = tk.el;
	/* Members shown in their own rows; any other is shown as it is. */
	var KNOWN = ["v", "kind", "requester", "rid", "created", "ttl",
	    "duration", "service_account", "connector", "incident", "reason",
	    "ticket", "scopes", "diff", "change"];

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

	/*
	 * A change's before and after, whatever its shape: an object with
	 * before/after members, a list of {path|field|key, before|old,
	 * after|new} entries, or a map of field to {before, after}.
	 */
	function diffTable(d) {
		var t = el("table"), body = el("tbody"), rows = [], keys;

		t.appendChild(el("caption", { text: "Requested change" }));
		t.appendChild(el("thead", {}, el("tr", {},
		    el("th", { scope: "col", text: "Field" }),
		    el("th", { scope: "col", text: "Before" }),
		    el("th", { scope: "col", text: "After" }))));
		if (Array.isArray(d)) {
			d.forEach(function (e) {
				rows.push([e.path || e.field || e.key || "",
				    "before" in e ? e.before : e.old,
				    "after" in e ? e.after : e["new"]]);
			});
		} else if (d && typeof d === "object" && ("before" in d ||
		    "after" in d)) {
			keys = {};
			Object.keys(d.before || {}).concat(
			    Object.keys(d.after || {})).forEach(function (k) {
				keys[k] = 1;
			});
			Object.keys(keys).sort().forEach(function (k) {
				rows.push([k, (d.before || {})[k],
				    (d.after || {})[k]]);
			});
		} else if (d && typeof d === "object") {
			Object.keys(d).sort().forEach(function (k) {
				var e = d[k] || {};

				rows.push([k, e.before, e.after]);
			});
		}
		rows.forEach(function (r) {
			body.appendChild(el("tr", {},
			    el("th", { scope: "row", text: r[0] }),
			    el("td", { "class": "before", text: r[1] ===
			    undefined ? "(none)" : show(r[1]) }),
			    el("td", { "class": "after", text: r[2] ===
			    undefined ? "(none)" : show(r[2]) })));
		});
		t.appendChild(body);
		return t;
	}

	function votes(list) {
		var ul;

		if (!list || list.length === 0)
			return "No one yet.";
		ul = el("ul");
		list.forEach(function (v) {
			ul.appendChild(el("li", { text: v.person + " (" +
			    v.team + ") " + (v.decision === "approve" ?
			    "approved" : "rejected") + " " + tk.when(v.at) }));
		});
		return ul;
	}

	function facts(r) {
		var q = r.request || {}, dl = el("dl", { "class": "facts" });

		fact(dl, "Asked by", (r.requester_name || q.requester) +
		    (r.requester_team ? " (team " + r.requester_team + ")" :
		    ""));
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

	/* One decision: challenge, key touch, vote. */
	async function decide(r, decision, reason, box, buttons) {
		var path = "/api/v1/requests/" + r.id, ch, a, res;

		buttons.forEach(function (b) { b.disabled = true; });
		tk.say(box, "info", "Touch your security key to " + decision +
		    " request " + r.id + ".");
		try {
			ch = await tk.api("POST", path + "/challenge",
			    { decision: decision });
			a = await tk.keyAssert(ch.challenge, ch.rp_id);
			if (reason)
				a.reason = reason;
			res = await tk.api("POST", path + "/votes", a);
			tk.say(box, "ok", (decision === "approve" ?
			    "Your approval is recorded. " : "Your rejection " +
			    "is recorded. ") + "The request is now " +
			    res.state + " (" + res.approvals +
			    " approval" + (res.approvals === 1 ? "" : "s") +
			    " counted).");
		} catch (e) {
			tk.say(box, "error", "Your " + (decision === "approve" ?
			    "approval" : "rejection") + " was refused: " +
			    tk.describe(e));
		}
		buttons.forEach(function (b) { b.disabled = false; });
	}

	function card(r) {
		var id = "req-" + r.id, box, approve, reject, form, reason;
		var art = el("article", { "class": "card" + (r.kind ===
		    "break-glass" ? " breakglass" : ""), id: id,
		    "aria-labelledby": id + "-h" });

		art.appendChild(el("h2", { id: id + "-h", text: "Request " +
		    r.id + ": " + r.kind }));
		art.appendChild(facts(r));
		if (r.request && (r.request.diff || r.request.change))
			art.appendChild(diffTable(r.request.diff ||
			    r.request.change));
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
		box = el("div", { "class": "msg", "aria-live": "polite" });
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
			decide(r, "reject", reason.value.trim(), box,
			    [approve, reject]);
		});
		art.appendChild(approve);
		art.appendChild(reject);
		art.appendChild(form);
		art.appendChild(box);
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
