/* Sign-in: the session challenge, the key's assertion, the session. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
	var form = document.getElementById("signin");
	var msg = document.getElementById("msg");
	var button = document.getElementById("signin-button");
	var next = new URLSearchParams(location.search).get("next");

	/* Only our own pages, never another site. */
	if (!next || !/^[a-z]+\.html$/.test(next))
		next = "requests.html";
	form.addEventListener("submit", async function (ev) {
		var name = document.getElementById("name").value.trim();
		var ch, a, s;

		ev.preventDefault();
		if (name === "") {
			tk.say(msg, "error", "Enter your name first.");
			document.getElementById("name").focus();
			return;
		}
		button.disabled = true;
		tk.say(msg, "info", "Touch your security key now.");
		try {
			ch = await tk.api("POST", "/api/v1/session/challenge",
			    { name: name });
			a = await tk.keyAssert(ch.challenge, ch.rp_id,
			    ch.timeout_ms);
			a.challenge_id = ch.challenge_id;
			s = await tk.api("POST", "/api/v1/session", a);
			tk.signedIn(s.person, s.csrf_token);
			tk.rememberCredential(a.credential_id);
			location.href = next;
		} catch (e) {
			tk.say(msg, "error", "Sign-in refused: " +
			    tk.describe(e));
			button.disabled = false;
		}
	});
});
