/* Admins invite people: the one-time enrollment link, shown once. */
"use strict";

document.addEventListener("DOMContentLoaded", async function () {
	var form = document.getElementById("invite");
	var msg = document.getElementById("msg"), me;

	if ((me = await tk.requireSession("invite.html")) === null)
		return;
	if (!tk.hasRole(me, "admin"))
		tk.say(msg, "info", "Inviting people needs the admin role; " +
		    "the appliance will refuse it for you.");
	form.addEventListener("submit", async function (ev) {
		var name = document.getElementById("name").value.trim();
		var team = document.getElementById("team").value.trim();
		var roles = [], r, link;

		ev.preventDefault();
		form.querySelectorAll("input[type=checkbox]").forEach(
		    function (c) {
			if (c.checked)
				roles.push(c.value);
		});
		if (name === "" || team === "" || roles.length === 0) {
			tk.say(msg, "error", "Give a name, a team and at " +
			    "least one role.");
			return;
		}
		document.getElementById("invite-submit").disabled = true;
		try {
			r = await tk.api("POST", "/api/v1/invitations",
			    { name: name, team: team, roles: roles });
			/* The code in the fragment never reaches a server
			 * log or a Referer header. */
			link = location.origin + "/enroll.html#" + r.invitation;
			document.getElementById("result-name").textContent =
			    r.name;
			document.getElementById("link").value = link;
			document.getElementById("result-expiry").textContent =
			    "Valid until " + tk.when(r.expires) + ".";
			document.getElementById("result").hidden = false;
			tk.say(msg, "ok", "Invitation for " + r.name +
			    " created. Copy the link now: it is not shown " +
			    "again.");
			form.reset();
		} catch (e) {
			tk.say(msg, "error", "The invitation was refused: " +
			    tk.describe(e));
		}
		document.getElementById("invite-submit").disabled = false;
	});
});
