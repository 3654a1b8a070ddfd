/*
 * Enrollment by invitation: the registration challenge bound to the
 * invitation, the key's registration (WebAuthn create), the person; or,
 * for a governed role, the change that waits for the approvers. A
 * new-key invitation adds the key to a person already enrolled.
 */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
	var form = document.getElementById("enroll");
	var msg = document.getElementById("msg");
	var code = document.getElementById("code");
	var button = document.getElementById("enroll-button");

	if (location.hash.length > 1) {
		code.value = decodeURIComponent(location.hash.slice(1));
		/* Out of the address bar and the history. */
		history.replaceState(null, "", location.pathname);
	}
	form.addEventListener("submit", async function (ev) {
		var inv = code.value.trim(), ch, reg, r;

		ev.preventDefault();
		if (inv === "") {
			tk.say(msg, "error", "Paste the invitation code " +
			    "first.");
			code.focus();
			return;
		}
		button.disabled = true;
		tk.say(msg, "info", "Touch your security key now.");
		try {
			ch = await tk.api("POST", "/api/v1/enroll/challenge",
			    { invitation: inv });
			tk.say(msg, "info", (ch.new_key ? "This code adds " +
			    "a new security key to " + ch.name : "This " +
			    "code enrolls " + ch.name) + ". Touch your " +
			    "security key now.");
			reg = await tk.keyCreate(ch.challenge, ch.rp_id,
			    ch.name, ch.timeout_ms);
			reg.invitation = inv;
			reg.challenge_id = ch.challenge_id;
			r = await tk.api("POST", "/api/v1/enroll", reg);
			tk.rememberCredential(reg.credential_id);
			code.value = "";
			if (r.change && r.change.type === "credential.add") {
				tk.say(msg, "ok", "Your new key is registered, " +
				    r.name + ", and waits for the approvers " +
				    "(change " + r.change.id + "): your roles " +
				    "can get or give access, so approvers " +
				    "other than you and the person who " +
				    "invited you must approve it. You can " +
				    "sign in with it once they have.");
				return;
			}
			if (r.state === "registered") {
				tk.say(msg, "ok", "Your new key is registered, " +
				    r.name + ". You can sign in with it now.");
				document.getElementById("next").hidden = false;
				return;
			}
			if (r.change) {
				/* 202: a governed role; the quorum decides. */
				tk.say(msg, "ok", "Your key is registered, " +
				    r.name + ", and your enrollment is " +
				    "waiting for the approvers (change " +
				    r.change.id + "). Your roles can get " +
				    "or give access, so approvers other " +
				    "than the person who invited you must " +
				    "approve it. You can sign in with this " +
				    "key once they have.");
				return;
			}
			tk.say(msg, "ok", "Your key is enrolled, " +
			    r.person.name + " (team " + r.person.team +
			    ", roles " + r.person.roles.join(", ") + "). " +
			    "You can sign in with it now.");
			document.getElementById("next").hidden = false;
		} catch (e) {
			tk.say(msg, "error", "Enrollment refused: " +
			    tk.describe(e));
			button.disabled = false;
		}
	});
});
