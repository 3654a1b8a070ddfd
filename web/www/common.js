/*
 * twokey pages: what every page shares. The API call with the session's
 * CSRF token, WebAuthn ceremonies, messages, and a small DOM builder that
 * only ever sets text (never HTML), so that nothing a requester typed can
 * become markup.
 */
"use strict";

var tk = (function () {
	var CSRF = "tk_csrf", PERSON = "tk_person", CREDS = "tk_credentials";

	function b64urlEncode(buf) {
		var bytes = new Uint8Array(buf), s = "", i;

		for (i = 0; i < bytes.length; i++)
			s += String.fromCharCode(bytes[i]);
		return btoa(s).replace(/\+/g, "-").replace(/\//g, "_")
		    .replace(/=+$/, "");
	}

	function b64urlDecode(str) {
		var s = str.replace(/-/g, "+").replace(/_/g, "/"), bin, out, i;

		while (s.length % 4 !== 0)
			s += "=";
		bin = atob(s);
		out = new Uint8Array(bin.length);
		for (i = 0; i < bin.length; i++)
			out[i] = bin.charCodeAt(i);
		return out;
	}

	/* el("p", {class: "x"}, "text", child...) */
	function el(tag, attrs) {
		var node = document.createElement(tag), k, i, c;

		attrs = attrs || {};
		for (k in attrs) {
			if (!Object.prototype.hasOwnProperty.call(attrs, k))
				continue;
			if (k === "text")
				node.textContent = attrs[k];
			else if (k === "hidden")
				node.hidden = !!attrs[k];
			else if (k === "disabled")
				node.disabled = !!attrs[k];
			else
				node.setAttribute(k, attrs[k]);
		}
		for (i = 2; i < arguments.length; i++) {
			c = arguments[i];
			if (c === null || c === undefined)
				continue;
			node.appendChild(typeof c === "string" ?
			    document.createTextNode(c) : c);
		}
		return node;
	}

	function ApiError(status, code, message) {
		this.status = status;
		this.code = code;
		this.message = message;
	}

	/* One API call; resolves with the JSON answer, rejects ApiError. */
	async function api(method, path, body) {
		var headers = { "Accept": "application/json" }, init, resp, data;
		var csrf = sessionStorage.getItem(CSRF);

		if (body !== undefined)
			headers["Content-Type"] = "application/json";
		if (method !== "GET" && csrf)
			headers["X-CSRF-Token"] = csrf;
		init = { method: method, headers: headers,
		    credentials: "same-origin", cache: "no-store" };
		if (body !== undefined)
			init.body = JSON.stringify(body);
		try {
			resp = await fetch(path, init);
		} catch (e) {
			throw new ApiError(0, "network", "The appliance " +
			    "could not be reached. Check the connection " +
			    "and try again.");
		}
		try {
			data = await resp.json();
		} catch (e) {
			data = null;
		}
		if (!resp.ok) {
			if (data && data.error)
				throw new ApiError(resp.status,
				    data.error.code, data.error.message);
			throw new ApiError(resp.status, "http",
			    "The appliance answered " + resp.status + ".");
		}
		return data;
	}

	/* What a refusal means for the person reading it. */
	var ADVICE = {
		self_approval: "You asked for this request yourself; two " +
		    "other approvers must decide on it.",
		subject_approval: "This change is about you: approvers " +
		    "other than you and its proposer decide on it.",
		already_voted: "You have decided on this request already.",
		role_missing: "Your roles do not allow this.",
		credential_flagged: "This security key is revoked or " +
		    "flagged as possibly cloned; use another key of yours, " +
		    "or ask an administrator.",
		challenge_expired: function () {
			var n = challengeMinutes();

			return "The approval took too long; start again and " +
			    "touch the key within " + n + " minute" +
			    (n === 1 ? "" : "s") + ".";
		},
		person_inactive: "Your account is suspended or marked as " +
		    "left; ask an admin.",
		assertion_refused: "The key's answer did not verify; try " +
		    "again with the key you enrolled.",
		signin_failed: "Use the key you enrolled with this name; a " +
		    "key still waiting for the approvers signs in once " +
		    "they have approved it.",
		invitation_void: "Ask an admin for a new invitation.",
		unauthenticated: "Your session has ended; sign in again.",
		csrf_failed: "Your session has ended; sign in again.",
		not_pending: "It was decided or expired meanwhile; refresh.",
		quorum_required: "Give a reason and a ticket: the " +
		    "approvers decide on them.",
		change_stale: "What it would change was changed meanwhile; " +
		    "it can no longer apply. Propose it again if still " +
		    "needed."
	};

	/* Says what went wrong, in words: the server's message first. */
	function describe(e) {
		var advice;

		if (e instanceof ApiError) {
			if (e.code === "rate_limited")
				return e.message;
			advice = Object.prototype.hasOwnProperty.call(ADVICE,
			    e.code) ? ADVICE[e.code] : null;
			if (typeof advice === "function")
				advice = advice();
			return e.message + " (" + e.code + ")" +
			    (advice ? ". " + advice : "");
		}
		if (e && e.name === "NotAllowedError")
			return "The security key did not answer, or the " +
			    "request was cancelled or timed out. Try again " +
			    "and touch the key when it blinks.";
		if (e && e.name === "InvalidStateError")
			return "This security key is already enrolled.";
		if (e && e.name === "SecurityError")
			return "The browser refused the security key for " +
			    "this address: open the appliance by its name " +
			    "(" + location.hostname + ") over HTTPS.";
		if (e && e.name === "NotSupportedError")
			return "This browser or key does not support the " +
			    "required algorithm (ES256).";
		return "Unexpected error: " + (e && e.message ? e.message :
		    String(e));
	}

	/* A term and its value (text or a node) in dl; the value's dd. */
	function fact(dl, term, value) {
		var dd = typeof value === "string" ? el("dd", { text: value }) :
		    el("dd", {}, value);

		dl.appendChild(el("dt", { text: term }));
		dl.appendChild(dd);
		return dd;
	}

	/* Shows a message in box (class ok, error or info) and focuses it. */
	function say(box, kind, text) {
		box.className = "msg " + kind;
		box.setAttribute("role", kind === "error" ? "alert" : "status");
		box.textContent = text;
		box.setAttribute("tabindex", "-1");
		box.focus();
	}

	function rememberCredential(id) {
		var list = knownCredentials();

		if (list.indexOf(id) < 0)
			list.push(id);
		localStorage.setItem(CREDS, JSON.stringify(list));
	}

	function knownCredentials() {
		try {
			var v = JSON.parse(localStorage.getItem(CREDS) || "[]");
			return Array.isArray(v) ? v : [];
		} catch (e) {
			return [];
		}
	}

	/*
	 * A WebAuthn assertion over challenge (base64url) as the API takes
	 * it. Keys enrolled in this browser are offered by id; otherwise the
	 * key finds its own (discoverable) credential for this site.
	 */
	async function keyAssert(challenge, rpId, timeoutMs) {
		var allow = knownCredentials().map(function (id) {
			return { type: "public-key", id: b64urlDecode(id) };
		});
		var cred = await navigator.credentials.get({ publicKey: {
			challenge: b64urlDecode(challenge),
			rpId: rpId,
			allowCredentials: allow,
			userVerification: "required",
			timeout: timeoutMs || 120000
		} });

		return {
			credential_id: b64urlEncode(cred.rawId),
			client_data: b64urlEncode(
			    cred.response.clientDataJSON),
			authenticator_data: b64urlEncode(
			    cred.response.authenticatorData),
			signature: b64urlEncode(cred.response.signature)
		};
	}

	async function keyCreate(challenge, rpId, name, timeoutMs) {
		var user = new Uint8Array(16), cred;

		crypto.getRandomValues(user);
		cred = await navigator.credentials.create({ publicKey: {
			challenge: b64urlDecode(challenge),
			rp: { id: rpId, name: "twokey" },
			user: { id: user, name: name, displayName: name },
			pubKeyCredParams: [{ type: "public-key", alg: -7 }],
			authenticatorSelection: {
				residentKey: "preferred",
				userVerification: "required"
			},
			attestation: "direct",
			timeout: timeoutMs || 120000
		} });
		return {
			credential_id: b64urlEncode(cred.rawId),
			client_data: b64urlEncode(
			    cred.response.clientDataJSON),
			attestation_object: b64urlEncode(
			    cred.response.attestationObject)
		};
	}

	function person() {
		try {
			return JSON.parse(sessionStorage.getItem(PERSON));
		} catch (e) {
			return null;
		}
	}

	function hasRole(p, role) {
		return p && Array.isArray(p.roles) &&
		    p.roles.indexOf(role) >= 0;
	}

	function signedIn(p, csrf) {
		sessionStorage.setItem(PERSON, JSON.stringify(p));
		sessionStorage.setItem(CSRF, csrf);
	}

	function forget() {
		sessionStorage.removeItem(PERSON);
		sessionStorage.removeItem(CSRF);
	}

	function pad(n) {
		return (n < 10 ? "0" : "") + n;
	}

	/* "2026-12-03 21:05 (in 59 min)" in the reader's time zone. */
	function when(unix) {
		var d = new Date(unix * 1000), left, s;

		s = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" +
		    pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
		    pad(d.getMinutes());
		left = Math.round((unix * 1000 - Date.now()) / 60000);
		if (left > 0)
			s += " (in " + span(left) + ")";
		else if (left < 0)
			s += " (" + span(-left) + " ago)";
		return s;
	}

	function span(min) {
		if (min < 90)
			return min + " min";
		if (min < 48 * 60)
			return Math.round(min / 6) / 10 + " h";
		return Math.round(min / 1440) + " days";
	}

	function duration(sec) {
		return span(Math.round(sec / 60));
	}

	/* The header: links for the person's roles, and sign-out. */
	function header(p, current) {
		var top = document.getElementById("top"), ul, links, out;

		links = [["requests.html", "Pending requests"],
		    ["breakglass.html", "Break-glass"],
		    ["grants.html", "Grants"]];
		if (hasRole(p, "admin"))
			links.push(["invite.html", "Invite"]);
		if (hasRole(p, "admin") || hasRole(p, "auditor"))
			links.push(["people.html", "People"]);
		links.push(["policy.html", "Policy"]);
		ul = el("ul");
		links.forEach(function (l) {
			var a = el("a", { href: l[0], text: l[1] });

			if (l[0] === current)
				a.setAttribute("aria-current", "page");
			ul.appendChild(el("li", {}, a));
		});
		/* The signed journal, for twokey-verify on the auditor's
		 * own machine. */
		if (hasRole(p, "auditor"))
			ul.appendChild(el("li", {}, el("a", { id: "export",
			    href: "/api/v1/journal/export",
			    download: "twokey-journal.tar",
			    text: "Export journal" })));
		out = el("button", { type: "button", "class": "secondary",
		    id: "signout", text: "Sign out" });
		out.addEventListener("click", async function () {
			try {
				await api("DELETE", "/api/v1/session");
			} catch (e) {
				/* Signed out on the server already. */
			}
			forget();
			location.href = "index.html";
		});
		top.textContent = "";
		top.appendChild(el("span", { "class": "brand", text: "twokey" }));
		top.appendChild(el("span", { "class": "who", text: "Signed in as "
		    + p.name + " (" + p.roles.join(", ") + ")" }));
		top.appendChild(el("nav", { "aria-label": "Main" }, ul));
		top.appendChild(out);
	}

	var policy = null;

	/* How long an approval challenge lives, in whole minutes (the
	 * approved policy's challenge_ttl; 5 until the policy is read). */
	function challengeMinutes() {
		var ttl = policy && policy.approved &&
		    policy.approved.challenge_ttl;

		return Math.max(1, Math.floor((ttl || 300) / 60));
	}

	/* The approved policy's quorum (2 until the policy is read). */
	function quorum() {
		return policy && policy.approved && policy.approved.quorum ?
		    policy.approved.quorum : 2;
	}

	/* "two" approvers reads better than "2" in a sentence. */
	function count(n) {
		var words = ["zero", "one", "two", "three", "four", "five"];

		return n >= 0 && n < words.length ? words[n] : String(n);
	}

	/*
	 * A policy file edited outside the quorum is not applied; everyone
	 * signed in is told, since the file no longer says what runs.
	 */
	function driftBanner() {
		var d = policy && policy.drift, box, keys, top;

		if (!d || !d.active)
			return;
		keys = Object.keys(d.after || {}).concat(Object.keys(
		    d.before || {})).filter(function (k, i, all) {
			return all.indexOf(k) === i;
		}).sort();
		box = el("div", { id: "drift", "class": "drift",
		    role: "alert" }, el("strong", { text: "Policy drift: " }),
		    "the configuration file's policy differs from the " +
		    "approved one" + (d.since ? " since " + when(d.since) :
		    "") + (keys.length ? " (" + keys.join(", ") + ")" : "") +
		    ". The edit is not applied: the approved policy stays " +
		    "in force. An admin proposes the change for the quorum " +
		    "(policy.set), or the file is put back.");
		top = document.getElementById("top");
		top.parentNode.insertBefore(box, top.nextSibling);
	}

	/*
	 * The signed-in person, or off to the sign-in page. The answer also
	 * holds the session's CSRF token, kept for this tab: a tab opened by
	 * typing the address has the cookie (shared by the browser) but not
	 * the token (sessionStorage is per tab). Safe against CSRF: only a
	 * same-origin page can read this answer (the cookie is
	 * SameSite=Strict and the API sends no CORS headers), and such a
	 * page could act as the person anyway; see api_session.c.
	 */
	async function requireSession(current) {
		var p = null, r;

		try {
			r = await api("GET", "/api/v1/session");
			p = r.person;
			if (typeof r.csrf_token === "string")
				sessionStorage.setItem(CSRF, r.csrf_token);
		} catch (e) {
			if (e instanceof ApiError && e.status === 401) {
				forget();
				location.href = "index.html?next=" +
				    encodeURIComponent(current);
			} else {
				say(document.getElementById("msg"), "error",
				    describe(e));
			}
			return null;
		}
		sessionStorage.setItem(PERSON, JSON.stringify(p));
		header(p, current);
		try {
			policy = await api("GET", "/api/v1/policy");
		} catch (e) {
			/* The pages work without it: quorum 2, no banner. */
			policy = null;
		}
		driftBanner();
		return p;
	}

	/*
	 * "Skip to content", the first thing a keyboard reaches on a
	 * signed-in page: focus goes to main itself, so that the next Tab
	 * is the first control of the page, past the header's links.
	 */
	document.addEventListener("DOMContentLoaded", function () {
		var skip = document.querySelector("a.skip");
		var main = document.getElementById("main");

		if (skip === null || main === null)
			return;
		skip.addEventListener("click", function (ev) {
			ev.preventDefault();
			main.setAttribute("tabindex", "-1");
			main.focus();
		});
	});

	return {
		api: api, ApiError: ApiError, describe: describe, el: el,
		fact: fact,
		say: say, keyAssert: keyAssert, keyCreate: keyCreate,
		rememberCredential: rememberCredential, person: person,
		hasRole: hasRole, signedIn: signedIn, forget: forget,
		when: when, duration: duration, quorum: quorum, count: count,
		requireSession: requireSession
	};
}());
