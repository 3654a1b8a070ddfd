/*
 * Policy: the approved policy beside the configuration file's, the keys
 * that drift, and for admins a form that proposes a policy.set change
 * (applied only once the quorum of other approvers approves it).
 */
"use strict";

(function () {
	var el = tk.el, me = null, current = null;

	function show(v) {
		return v === undefined ? "" : JSON.stringify(v);
	}

	function row(k, approved, file) {
		var tr = el("tr", { "class": show(approved) === show(file) ?
		    "same" : "drifts", id: "policy-" + k });

		tr.appendChild(el("th", { scope: "row", text: k }));
		tr.appendChild(el("td", { text: show(approved) }));
		tr.appendChild(el("td", { "class": show(approved) ===
		    show(file) ? "" : "after", text: show(file) }));
		return tr;
	}

	/* As the CLI's --set: JSON when it parses, else the text itself. */
	function parseValue(s) {
		try {
			return JSON.parse(s);
		} catch (e) {
			return s;
		}
	}

	function fillKeys(approved, file) {
		var sel = document.getElementById("key");

		sel.textContent = "";
		Object.keys(approved).sort().forEach(function (k) {
			sel.appendChild(el("option", { value: k, text: k +
			    (show(approved[k]) !== show(file[k]) ?
			    " (the file differs)" : "") }));
		});
	}

	/* The value field starts from the file's value when it differs. */
	function prefill() {
		var k = document.getElementById("key").value;
		var f = current.file || {}, a = current.approved || {};

		document.getElementById("value").value = show(k in f &&
		    show(f[k]) !== show(a[k]) ? f[k] : a[k]);
	}

	async function load() {
		var rows = document.getElementById("policy-rows"), a, f;

		try {
			current = await tk.api("GET", "/api/v1/policy");
		} catch (e) {
			tk.say(document.getElementById("msg"), "error",
			    "The policy could not be read: " + tk.describe(e));
			return;
		}
		a = current.approved || {};
		f = current.file || {};
		rows.textContent = "";
		Object.keys(a).sort().forEach(function (k) {
			rows.appendChild(row(k, a[k], f[k]));
		});
		if (tk.hasRole(me, "admin")) {
			fillKeys(a, f);
			prefill();
			document.getElementById("propose").hidden = false;
		}
	}

	async function propose(ev) {
		var msg = document.getElementById("msg"), args = {}, r;
		var key = document.getElementById("key").value;
		var value = document.getElementById("value").value.trim();
		var reason = document.getElementById("reason").value.trim();
		var ticket = document.getElementById("ticket").value.trim();

		ev.preventDefault();
		if (value === "" || reason === "" || ticket === "") {
			tk.say(msg, "error", "Give the new value, the reason " +
			    "and the ticket the approvers will read.");
			return;
		}
		args[key] = parseValue(value);
		document.getElementById("propose-submit").disabled = true;
		try {
			r = await tk.api("POST", "/api/v1/changes", {
			    type: "policy.set", reason: reason, ticket: ticket,
			    args: { policy: args } });
			tk.say(msg, "ok", "Change " + r.id + " proposed: " +
			    key + " becomes " + show(args[key]) + " once " +
			    tk.count(tk.quorum()) + " approvers other than " +
			    "you approve it on the Pending requests page.");
			document.getElementById("reason").value = "";
			document.getElementById("ticket").value = "";
		} catch (e) {
			tk.say(msg, "error", "The change was refused: " +
			    tk.describe(e));
		}
		document.getElementById("propose-submit").disabled = false;
	}

	document.addEventListener("DOMContentLoaded", async function () {
		if ((me = await tk.requireSession("policy.html")) === null)
			return;
		document.getElementById("key").addEventListener("change",
		    prefill);
		document.getElementById("propose").addEventListener("submit",
		    propose);
		load();
	});
}());
