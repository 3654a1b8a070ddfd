/* Files a break-glass request; the approvers see it at once. */
"use strict";

document.addEventListener("DOMContentLoaded", async function () {
	var form = document.getElementById("bg");
	var msg = document.getElementById("msg");

	if (await tk.requireSession("breakglass.html") === null)
		return;
	form.addEventListener("submit", async function (ev) {
		var incident = document.getElementById("incident").value.trim();
		var scopes = document.getElementById("scopes").value
		    .split(/[\s,]+/).filter(function (s) { return s !== ""; });
		var reason = document.getElementById("reason").value.trim();
		var ttl = parseInt(document.getElementById("ttl").value, 10);
		var r;

		ev.preventDefault();
		if (incident === "" || scopes.length === 0 || reason === "") {
			tk.say(msg, "error", "Fill in the incident, the " +
			    "scopes and why.");
			return;
		}
		document.getElementById("bg-submit").disabled = true;
		try {
			r = await tk.api("POST", "/api/v1/requests", {
				kind: "break-glass", incident: incident,
				scopes: scopes, ttl: ttl, reason: reason });
			tk.say(msg, "ok", "Request " + r.id + " is filed and " +
			    "pending. Ask two approvers to decide on it; " +
			    "the token appears under Grants once they have.");
			form.reset();
		} catch (e) {
			tk.say(msg, "error", "The request was refused: " +
			    tk.describe(e));
		}
		document.getElementById("bg-submit").disabled = false;
	});
});
