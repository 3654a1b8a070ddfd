/*
 * Admins invite people: the one-time enrollment link, shown once. A
 * governed role (incident commander, approver, admin) needs a reason and
 * a ticket: the invitee's enrollment is then a change proposed in the
 * inviter's name, which the quorum approves on the requests page.
 */
"use strict";

document.addEventListener("DOMContentLoaded", async function () {
	var form = document.getElementById("invite");
	var msg = document.getElementById("msg");
	var governed = document.getElementById("governed"), me;

	function chosen() {
		var roles = [], gov = false;

		form.querySelectorAll("input[type=checkbox]").forEach(
		    function (c) {
			if (!c.checked)
				return;
			roles.push(c.value);
			if (c.getAttribute("data-governed"))
				gov = true;
		});
		return { roles: roles, governed: gov };
	}

	function showGoverned() {
		governed.hidden = !chosen().governed;
	}

	if ((me = await tk.requireSession("invite.html")) === null)
		return;
	document.getElementById("quorum").textContent =
	    tk.count(tk.quorum());
	if (!tk.hasRole(me, "admin"))
		tk.say(msg, "info", "Inviting people needs the admin role; " +
		    "the appliance will refuse it for you.");
	form.querySelectorAll("input[type=checkbox]").forEach(function (c) {
		c.addEventListener("change", showGoverned);
	});
	showGoverned();
	form.addEventListener("submit", async function (ev) {
		var name = document.getElementById("name").value.trim();
		var team = document.getElementById("team").value.trim();
		var reason = document.getElementById("reason").value.trim();
		var ticket = document.getElementById("ticket").value.trim();
		var c = chosen(), body, r, link, text;

		ev.preventDefault();
		if (name === "" || team === "" || c.roles.length === 0) {
			tk.say(msg, "error", "Give a name, a team and at " +
			    "least one role.");
			return;
		}
		body = { name: name, team: team, roles: c.roles };
		if (c.governed) {
			if (reason === "" || ticket === "") {
				tk.say(msg, "error", "Incident commanders, " +
				    "approvers and admins need the quorum: " +
				    "give the reason and the ticket the " +
				    "approvers will read.");
				document.getElementById(reason === "" ?
				    "reason" : "ticket").focus();
				return;
			}
			body.reason = reason;
			body.ticket = ticket;
		}
		document.getElementById("invite-submit").disabled = true;
		try {
			r = await tk.api("POST", "/api/v1/invitations", body);
			/* The code in the fragment never reaches a server
			 * log or a Referer header. */
			link = location.origin + "/enroll.html#" + r.invitation;
			document.getElementById("result-name").textContent =
			    r.name;
			document.getElementById("link").value = link;
			document.getElementById("result-expiry").textContent =
			    "Valid until " + tk.when(r.expires) + ".";
			document.getElementById("result").hidden = false;
			text = "Invitation for " + r.name + " created. Copy " +
			    "the link now: it is not shown again.";
			if (c.governed)
				text += " When " + r.name + " enrolls, the " +
				    "enrollment waits as a change proposed " +
				    "by you: " + tk.count(tk.quorum()) +
				    " approvers other than you must approve " +
				    "it on the Pending requests page before " +
				    r.name + " can sign in.";
			tk.say(msg, "ok", text);
			form.reset();
			showGoverned();
		} catch (e) {
			tk.say(msg, "error", "The invitation was refused: " +
			    tk.describe(e));
		}
		document.getElementById("invite-submit").disabled = false;
	});
});
