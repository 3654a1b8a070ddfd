/*
 * The main job of twokey in a real browser. Debian's chromium, driven by
 * playwright-core, with one DevTools WebAuthn virtual authenticator per
 * person playing their security key, against the daemon of `make run`
 * (deploy/run-embedded.sh) on a fresh state folder and a free port:
 *
 *   alice, bob and carol enroll with the bootstrap links make run prints;
 *   on every signed-in page the keyboard's first stop is "Skip to
 *   content", which moves focus to main, and focus shows at 3:1 on the
 *   white page and on the dark header;
 *   alice (admin) invites dave (incident commander and approver, governed
 *   roles: with a reason and a ticket), erin (requester) and frank
 *   (auditor) on the
 *   invite page; each enrolls a key, dave's enrollment waiting as a
 *   change for the approvers; alice's own approval of her proposal is
 *   refused on the page; bob reads its before/after diff and approves,
 *   carol too, and dave exists; dave asks for a break-glass token; his
 *   own approval is refused on the page with a clear message; bob
 *   approves with a key touch, and carol in a second tab opened by
 *   typing the address (the CSRF token is per tab: the page gets it
 *   back from its session); the grant appears with its expiry; dave
 *   files the post-incident review; bob revokes the grant in two steps;
 *   bob rejects dave's second request with a reason; a key whose
 *   signature does not verify is refused on the sign-in page; frank
 *   exports the journal from the page, and twokey-verify accepts it;
 *   alice suspends erin on the People page, erin's open session is told
 *   her account is suspended, and her sign-in is refused; the policy
 *   file is edited outside the quorum and reloaded (SIGHUP), and the
 *   pages show the drift to everyone signed in; alice proposes the
 *   file's value on the Policy page, frank (auditor) may only follow it,
 *   bob and carol approve, and the drift is gone.
 *
 * A screenshot of each page is kept in the run's temporary folder, whose
 * path is printed. Usage: node e2e.js BUILD_DIR (from the project root,
 * or with TWOKEY_TOP set). Exit 0 on success, 1 on any failure; a missing
 * chromium is a failure, never a skip.
 */
"use strict";

const { spawn, execFileSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const https = require("https");
const net = require("net");
const os = require("os");
const path = require("path");

const top = process.env.TWOKEY_TOP || path.resolve(__dirname, "../..");
const build = path.resolve(top, process.argv[2] || "build");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const started = Date.now();

let daemon = null;
let browser = null;
let step = "start";

function log(msg) {
	const s = ((Date.now() - started) / 1000).toFixed(1);
	console.log(`[${s}s] ${msg}`);
}

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.on("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

/* GET url over TLS trusting only the ceremony's root certificate. */
function get(url, ca) {
	return new Promise((resolve, reject) => {
		const req = https.get(url, { ca }, (res) => {
			res.resume();
			res.on("end", () => resolve(res.statusCode));
		});
		req.on("error", reject);
		req.setTimeout(2000, () => req.destroy(new Error("timeout")));
	});
}

/*
 * Starts make run's script with its own state folder and port; resolves
 * with the bootstrap links it printed once the daemon answers.
 */
async function startDaemon(tmp, port) {
	const state = path.join(tmp, "state");
	let out = "";

	daemon = spawn("sh", [path.join(top, "deploy/run-embedded.sh"),
	    build], { cwd: top, env: Object.assign({}, process.env,
	    { TWOKEY_STATE: state, TWOKEY_PORT: String(port) }),
	    stdio: ["ignore", "pipe", "pipe"] });
	const logFile = fs.createWriteStream(path.join(tmp, "daemon.log"));
	daemon.stdout.on("data", (d) => { out += d; logFile.write(d); });
	daemon.stderr.on("data", (d) => logFile.write(d));
	let exited = null;
	daemon.on("exit", (code) => { exited = code; });
	const root = path.join(state, "ceremony/root.pem");
	for (let i = 0; i < 600; i++) {
		if (exited !== null)
			throw new Error(`make run's daemon exited (${exited}); ` +
			    `see ${tmp}/daemon.log`);
		if (fs.existsSync(root) && /enroll\.html#/.test(out)) {
			try {
				if (await get(`https://localhost:${port}/healthz`,
				    fs.readFileSync(root)) === 200)
					break;
			} catch (e) {
				/* not yet listening */
			}
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	const links = {};
	const re = /^ {2}(\w+) \(team [^)]*\):\n {4}(https:\/\/\S+)$/gm;
	let m;
	while ((m = re.exec(out)) !== null)
		links[m[1]] = m[2];
	for (const who of ["alice", "bob", "carol"])
		if (!links[who])
			throw new Error(`no enrollment link for ${who} in make ` +
			    `run's output; see ${tmp}/daemon.log`);
	return { state, links, root };
}

/* base64 SHA-256 of the TLS certificate's public key, for chromium. */
function spkiHash(certPath) {
	const cert = new crypto.X509Certificate(fs.readFileSync(certPath));
	const der = cert.publicKey.export({ type: "spki", format: "der" });
	return crypto.createHash("sha256").update(der).digest("base64");
}

/* A new tab in context with an empty virtual security key of its own. */
async function tabWithKey(context) {
	const page = await context.newPage();
	const cdp = await context.newCDPSession(page);
	await cdp.send("WebAuthn.enable", { enableUI: false });
	const { authenticatorId } = await cdp.send(
	    "WebAuthn.addVirtualAuthenticator", { options: {
		protocol: "ctap2", transport: "usb", hasResidentKey: true,
		hasUserVerification: true, isUserVerified: true,
		automaticPresenceSimulation: true } });
	page.setDefaultTimeout(20000);
	return { page, cdp, authenticatorId };
}

/* A person: own browser context, own page, own virtual security key. */
async function person(name, base) {
	const context = await browser.newContext({ baseURL: base,
	    viewport: { width: 420, height: 900 } });
	return Object.assign({ name, context }, await tabWithKey(context));
}

/*
 * p opens a second tab of the same browser by typing the address: the
 * session cookie is shared, the CSRF token (kept per tab) is not. A
 * virtual key belongs to one tab, so p's key moves to the new one, its
 * counter included, and p works there from now on (one key, one
 * counter: a copy left behind would look like a clone).
 */
async function secondTab(p) {
	const tab = await tabWithKey(p.context);
	const { credentials } = await p.cdp.send("WebAuthn.getCredentials",
	    { authenticatorId: p.authenticatorId });
	for (const credential of credentials)
		await tab.cdp.send("WebAuthn.addCredential", { authenticatorId:
		    tab.authenticatorId, credential });
	await p.cdp.send("WebAuthn.removeVirtualAuthenticator",
	    { authenticatorId: p.authenticatorId });
	Object.assign(p, tab);
	log(`${p.name} opened a second tab`);
}

/* WCAG contrast ratio of two CSS colours "rgb(r, g, b)". */
function contrast(a, b) {
	const lum = (c) => {
		const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
			const x = Number(v) / 255;
			return x <= 0.04045 ? x / 12.92 :
			    ((x + 0.055) / 1.055) ** 2.4;
		});
		return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
	};
	const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
	return (hi + 0.05) / (lo + 0.05);
}

/*
 * The focused element and its focus ring: the outline's colour, the
 * shadow's, and the background it sits on (the first ancestor's that
 * is not transparent).
 */
function focused(page) {
	return page.evaluate(() => {
		const el = document.activeElement;
		const cs = getComputedStyle(el);
		let up = el.parentElement, behind = "rgb(255, 255, 255)";
		for (; up !== null; up = up.parentElement) {
			const bg = getComputedStyle(up).backgroundColor;
			if (!/^rgba\(.*, 0\)$|^transparent$/.test(bg)) {
				behind = bg;
				break;
			}
		}
		return { id: el.id, cls: el.className,
		    text: el.textContent.trim(), inMain:
		    el.closest("main") !== null, outline: cs.outlineStyle +
		    " " + cs.outlineWidth + " " + cs.outlineColor,
		    outlineColor: cs.outlineColor, shadow: (cs.boxShadow
		    .match(/rgba?\([^)]*\)/) || ["none"])[0], behind,
		    width: el.getBoundingClientRect().width };
	});
}

/* Whether one tone of the ring stands out at 3:1 on what is behind. */
function ringShows(f) {
	if (!/^solid [3-9]px /.test(f.outline) || f.shadow === "none")
		return false;
	return Math.max(contrast(f.outlineColor, f.behind),
	    contrast(f.shadow, f.behind)) >= 3;
}

/*
 * On every signed-in page the first Tab reaches "Skip to content",
 * shown once focused; Enter moves focus to main, and the next Tab is
 * in main, past the header. The ring shows on the white page and on
 * the dark header.
 */
async function keyboard(p, tmp) {
	for (const page of ["requests.html", "breakglass.html",
	    "grants.html", "invite.html", "people.html", "policy.html"]) {
		step = `${p.name} tabs through ${page}`;
		await p.page.goto(`/${page}`);
		await p.page.locator("#signout").waitFor();
		await p.page.keyboard.press("Tab");
		const skip = await focused(p.page);
		if (skip.cls !== "skip" || skip.text !== "Skip to content" ||
		    skip.width < 20)
			throw new Error(`${page}: first Tab reaches ` +
			    `${JSON.stringify(skip)}`);
		if (page === "requests.html")
			await shot(p, tmp, "02-skip-link");
		await p.page.keyboard.press("Tab");
		const header = await focused(p.page);
		if (header.inMain || !ringShows(header))
			throw new Error(`${page}: focus in the header: ` +
			    `${JSON.stringify(header)}`);
		await p.page.keyboard.press("Shift+Tab");
		await p.page.keyboard.press("Enter");
		const main = await focused(p.page);
		if (main.id !== "main")
			throw new Error(`${page}: "Skip to content" focused ` +
			    `${JSON.stringify(main)}`);
		await p.page.keyboard.press("Tab");
		const next = await focused(p.page);
		if (!next.inMain || !ringShows(next))
			throw new Error(`${page}: focus after the skip: ` +
			    `${JSON.stringify(next)}`);
	}
	log(`${p.name}: "Skip to content" first and focus seen on every page`);
}

/*
 * Refusals the main job does not meet on its own say what to do too: an
 * approval challenge that expired (within the policy's challenge_ttl,
 * in minutes) and a key flagged as possibly cloned.
 */
async function advice(p) {
	step = "the pages advise on an expired challenge and a flagged key";
	await p.page.goto("/requests.html");
	await p.page.locator("#signout").waitFor();
	await p.page.waitForLoadState("networkidle");
	const said = await p.page.evaluate(async () => ({
		ttl: (await tk.api("GET", "/api/v1/policy")).approved
		    .challenge_ttl,
		expired: tk.describe(new tk.ApiError(409, "challenge_expired",
		    "the challenge has expired")),
		flagged: tk.describe(new tk.ApiError(403, "credential_flagged",
		    "the credential is flagged"))
	}));
	const n = Math.floor(said.ttl / 60);
	const want = "the challenge has expired (challenge_expired). The " +
	    "approval took too long; start again and touch the key within " +
	    `${n} minute${n === 1 ? "" : "s"}.`;
	if (said.expired !== want)
		throw new Error(`challenge_expired: ${said.expired}`);
	if (!/\(credential_flagged\)\. This security key is revoked or /
	    .test(said.flagged))
		throw new Error(`credential_flagged: ${said.flagged}`);
	log(`advice: "${said.expired}"`);
}

async function shot(p, tmp, label) {
	const file = path.join(tmp, "screenshots", `${label}.png`);
	await p.page.screenshot({ path: file, fullPage: true });
}

/* The page's message box once it says something of kind (ok/error). */
async function message(page, selector, kind) {
	const box = page.locator(`${selector}.msg.${kind}`);
	await box.waitFor();
	return (await box.textContent()).trim();
}

/* Enrolls p's key; for a governed role, the id of the change it waits on. */
async function enroll(p, link, tmp, label, governed) {
	step = `${p.name} enrolls`;
	await p.page.goto(link);
	if (label)
		await shot(p, tmp, label);
	await p.page.click("#enroll-button");
	const text = await message(p.page, "#msg", "ok");
	const want = governed ? new RegExp(`^Your key is registered, ` +
	    `${p.name}, and your enrollment is waiting for the approvers ` +
	    `\\(change (\\d+)\\)`) : new RegExp(`enrolled, ${p.name}`);
	const m = want.exec(text);
	if (m === null)
		throw new Error(`enrollment of ${p.name}: ${text}`);
	const { credentials } = await p.cdp.send("WebAuthn.getCredentials",
	    { authenticatorId: p.authenticatorId });
	if (credentials.length !== 1)
		throw new Error(`${p.name}'s key holds ` +
		    `${credentials.length} credentials`);
	log(`${p.name} enrolled a key${governed ? `; change ${m[1]} ` +
	    "waits for the approvers" : ""}`);
	return governed ? Number(m[1]) : 0;
}

async function signIn(p, tmp, label) {
	step = `${p.name} signs in`;
	await p.page.goto("/index.html");
	await p.page.fill("#name", p.name);
	if (label)
		await shot(p, tmp, label);
	await p.page.click("#signin-button");
	await p.page.waitForURL(/requests\.html$/);
	await p.page.locator("#signout").waitFor();
	log(`${p.name} signed in`);
}

/* gov: {reason, ticket} for a governed role (commander, approver, admin). */
async function invite(admin, name, team, roles, gov, tmp) {
	step = `${admin.name} invites ${name}`;
	await admin.page.goto("/invite.html");
	await admin.page.locator("#signout").waitFor();
	await admin.page.fill("#name", name);
	await admin.page.fill("#team", team);
	for (const r of ["requester", "auditor", "commander", "approver",
	    "admin"])
		await admin.page.setChecked(`#role-${r}`, roles.includes(r));
	if (gov) {
		/* Without them the page says what is missing. */
		await admin.page.click("#invite-submit");
		const missing = await message(admin.page, "#msg", "error");
		if (!/need the quorum: give the reason and the ticket/
		    .test(missing))
			throw new Error(`governed invitation: ${missing}`);
		await admin.page.fill("#reason", gov.reason);
		await admin.page.fill("#ticket", gov.ticket);
		await shot(admin, tmp, "04-invite-governed");
	}
	await admin.page.click("#invite-submit");
	const done = await message(admin.page, "#msg", "ok");
	if (gov && !/two approvers other than you must approve it/
	    .test(done))
		throw new Error(`governed invitation: ${done}`);
	const link = await admin.page.inputValue("#link");
	if (!/\/enroll\.html#tki_/.test(link))
		throw new Error(`invitation link for ${name}: ${link}`);
	log(`${admin.name} invited ${name} (${roles.join(", ")})`);
	return link;
}

/* Files a break-glass request on its page; its id. */
async function breakglass(p, incident, scopes, reason) {
	step = `${p.name} asks for break-glass (${incident})`;
	await p.page.goto("/breakglass.html");
	await p.page.locator("#signout").waitFor();
	await p.page.fill("#incident", incident);
	await p.page.fill("#scopes", scopes);
	await p.page.selectOption("#ttl", "3600");
	await p.page.fill("#reason", reason);
	await p.page.click("#bg-submit");
	const filed = await message(p.page, "#msg", "ok");
	const id = Number((/Request (\d+) is filed/.exec(filed) || [])[1]);
	if (!id)
		throw new Error(`break-glass request: ${filed}`);
	log(`${p.name} filed break-glass request ${id}`);
	return id;
}

/* Approve request id on the requests page; the card's message. */
async function approve(p, id, kind) {
	step = `${p.name} approves request ${id}`;
	await p.page.goto("/requests.html");
	const card = p.page.locator(`#req-${id}`);
	await card.waitFor();
	await card.locator("button.approve").click();
	return message(card, ".msg", kind);
}

/* p revokes who's grant for request id: a first click only asks. */
async function revoke(p, id, who, tmp) {
	step = `${p.name} revokes the grant of request ${id}`;
	await p.page.goto("/grants.html");
	const grant = p.page.locator(`#grant-${id}`);
	await grant.waitFor();
	await grant.locator("text=Revoke...").click();
	const sure = grant.locator(`text=Revoke ${who}'s grant now`);
	await sure.waitFor();
	const before = (await grant.locator("dd.state").textContent()).trim();
	if (before !== "active")
		throw new Error(`the first click changed the grant: ${before}`);
	await sure.click();
	const done = await message(grant, ".msg", "ok");
	const after = (await grant.locator("dd.state").textContent()).trim();
	if (!/^Grant revoked/.test(done) || after !== "revoked")
		throw new Error(`revocation: ${done} (${after})`);
	await shot(p, tmp, "10-grant-revoked");
	log(`${p.name} revoked the grant of request ${id}: "${done}"`);
}

/* The auditor downloads the journal from the page; twokey-verify. */
async function exportAndVerify(auditor, tmp, root) {
	step = "the journal is exported and verified";
	const dir = path.join(tmp, "export");
	fs.mkdirSync(dir);
	const [download] = await Promise.all([
	    auditor.page.waitForEvent("download"),
	    auditor.page.click("#export")]);
	const failure = await download.failure();
	if (failure !== null)
		throw new Error(`journal export: ${failure}`);
	await download.saveAs(path.join(dir, "export.tar"));
	execFileSync("tar", ["-xf", "export.tar"], { cwd: dir });
	const out = execFileSync(path.join(build, "twokey-verify"), ["log",
	    path.join(dir, "journal"), "--root", root], { encoding: "utf8" });
	log(`twokey-verify: ${out.trim().split("\n").slice(0, 2).join(";")}`);
}

/*
 * dave's enrollment, change id: alice proposed it, so her approval is
 * refused; bob reads the diff and approves, carol too; dave exists.
 */
async function approveEnrollment(p, id, tmp) {
	const self = await approve(p.alice, id, "error");
	if (!new RegExp("refused: requester cannot approve " +
	    "\\(self_approval\\)\\. You proposed this change yourself: " +
	    "it needs two approvers other than you\\.$").test(self))
		throw new Error(`alice's own approval: ${self}`);
	await shot(p.alice, tmp, "05-change-self-approval-refused");
	log(`alice's own approval refused: "${self}"`);

	await signIn(p.bob);
	step = "bob reads the change";
	const card = p.bob.page.locator(`#req-${id}`);
	await card.waitFor();
	const facts = await card.textContent();
	for (const want of ["Change " + id + ": person.enroll",
	    "Enroll dave (team ops) with the roles ",
	    "Proposed by", "alice (team ops)", "on call for the database",
	    "CHG-1042", "0 of the 2 approvals needed", "Open until",
	    "nothing before; after the change", "credential.aaguid"])
		if (!facts.includes(want))
			throw new Error(`change card lacks "${want}"`);
	const row = (await card.locator("tr", { hasText: "roles" }).first()
	    .textContent()).trim();
	if (!/^roles(approver, ?commander|commander, ?approver)$/.test(row))
		throw new Error(`change diff row: ${row}`);
	await shot(p.bob, tmp, "05-change-before-approval");
	const first = await approve(p.bob, id, "ok");
	if (!/change is now pending \(1 approval counted\)/.test(first))
		throw new Error(`bob's approval: ${first}`);
	log(`bob approved change ${id}: "${first}"`);

	await signIn(p.carol);
	const second = await approve(p.carol, id, "ok");
	if (!/change is now applied \(2 approvals counted\)/.test(second))
		throw new Error(`carol's approval: ${second}`);
	await shot(p.carol, tmp, "05-change-applied");
	log(`carol approved change ${id}: "${second}"`);
}

/*
 * Root edits the policy in the file and reloads: not applied, and every
 * signed-in page says so.
 */
async function policyDrift(p, state, tmp) {
	step = "the policy file drifts";
	const conf = path.join(state, "twokeyd.conf");
	const text = fs.readFileSync(conf, "utf8");
	const edited = text.replace(/("max_connections_per_address": \d+)\n}/,
	    '$1,\n  "policy": { "review_due": 86400 }\n}');
	if (edited === text)
		throw new Error(`cannot edit the policy in ${conf}`);
	fs.writeFileSync(conf, edited);
	daemon.kill("SIGHUP");
	/* The reload is asynchronous: read the page until it tells. */
	for (let i = 0; i < 100; i++) {
		await p.page.goto("/grants.html");
		await p.page.locator("#signout").waitFor();
		if (await p.page.locator("#drift").count() > 0)
			break;
		await new Promise((r) => setTimeout(r, 100));
	}
	const banner = (await p.page.locator("#drift").textContent()).trim();
	if (!/^Policy drift: .*\(review_due\)\. The edit is not applied/
	    .test(banner))
		throw new Error(`drift banner: ${banner}`);
	await shot(p, tmp, "13-policy-drift");
	log(`drift shown: "${banner.slice(0, 70)}..."`);
}

/*
 * admin suspends who on the People page while who has a request half
 * written in an open session: that session ends with the suspension,
 * and who's next sign-in is refused with the reason.
 */
async function suspendFromPeople(admin, who, tmp) {
	step = `${who.name} writes a request`;
	await who.page.goto("/breakglass.html");
	await who.page.locator("#signout").waitFor();
	await who.page.fill("#incident", "INC-4250");
	await who.page.fill("#scopes", "db:read");
	await who.page.fill("#reason", "still here");
	step = `${admin.name} suspends ${who.name} on the People page`;
	await admin.page.goto("/people.html");
	await admin.page.locator("#signout").waitFor();
	const card = admin.page.locator("article.card", { hasText:
	    `Team`, has: admin.page.locator(`h2:text-is("${who.name}")`) });
	await card.waitFor();
	const facts = await card.textContent();
	for (const want of ["requester", "active", "1 key"])
		if (!facts.includes(want))
			throw new Error(`${who.name}'s card lacks "${want}"`);
	await card.locator("text=Suspend...").click();
	await card.locator(`text=Suspend ${who.name} now`).click();
	const done = await message(card, ".msg", "ok");
	if (!new RegExp(`^${who.name} is suspended`).test(done))
		throw new Error(`suspension of ${who.name}: ${done}`);
	const state = (await card.locator("dd.state").textContent()).trim();
	if (state !== "suspended")
		throw new Error(`${who.name}'s card says "${state}"`);
	/* What fit the old state is gone at once, not after a reload. */
	for (const stale of ["New key invitation...", "Record as left..."])
		if (await card.locator(`text=${stale}`).isVisible())
			throw new Error(`suspended ${who.name}: "${stale}"`);
	await shot(admin, tmp, "14-people-suspended");
	log(`${admin.name} suspended ${who.name}: "${done}"`);
	step = `${who.name}'s open session files a request once suspended`;
	await who.page.click("#bg-submit");
	const told = await message(who.page, "#msg", "error");
	if (!/suspended or has left: this session is ended/.test(told))
		throw new Error(`suspended ${who.name} filing: ${told}`);
	log(`${who.name}'s open session ended: "${told}"`);
	step = `${who.name} signs in while suspended`;
	await who.page.goto("/index.html");
	await who.page.fill("#name", who.name);
	await who.page.click("#signin-button");
	const refused = await message(who.page, "#msg", "error");
	if (!/^Sign-in refused: .*\(person_inactive\)\. Your account is /
	    .test(refused))
		throw new Error(`suspended ${who.name} signing in: ${refused}`);
	log(`${who.name}'s sign-in refused: "${refused}"`);
	step = `${admin.name} records that ${who.name} left`;
	await admin.page.goto("/people.html");
	await admin.page.locator("#signout").waitFor();
	const gone = admin.page.locator("article.card", { has:
	    admin.page.locator(`h2:text-is("${who.name}")`) });
	await gone.waitFor();
	if (await gone.locator("text=Suspend...").count() !== 0)
		throw new Error(`${who.name} is suspended yet offered Suspend`);
	await gone.locator("text=Record as left...").click();
	await gone.locator(`text=Record that ${who.name} left`).click();
	const left = await message(gone, ".msg", "ok");
	if (!new RegExp(`^${who.name} is recorded as left`).test(left))
		throw new Error(`${who.name} leaving: ${left}`);
	const now = (await gone.locator("dd.state").textContent()).trim();
	if (now !== "left")
		throw new Error(`${who.name}'s card says "${now}"`);
	await admin.page.reload();
	await gone.waitFor();
	if (await gone.locator("button").count() !== 0)
		throw new Error(`${who.name} left yet the card offers actions`);
	log(`${admin.name} recorded that ${who.name} left: "${left}"`);
}

/*
 * alice proposes, on the Policy page, the file's review_due; bob and
 * carol approve it; the drift is gone from frank's pages.
 */
async function adoptDriftFromPolicyPage(p, tmp) {
	step = "alice proposes the file's review_due on the Policy page";
	await p.alice.page.goto("/policy.html");
	await p.alice.page.locator("#propose:not([hidden])").waitFor();
	const drifting = (await p.alice.page.locator(
	    "#policy-review_due").textContent()).trim();
	if (!/^review_due259200.*86400$/.test(drifting))
		throw new Error(`policy row: ${drifting}`);
	await p.alice.page.selectOption("#key", "review_due");
	const value = await p.alice.page.inputValue("#value");
	if (value !== "86400")
		throw new Error(`value not prefilled from the file: ${value}`);
	await p.alice.page.fill("#reason", "reviews within a day");
	await p.alice.page.fill("#ticket", "CHG-2001");
	await shot(p.alice, tmp, "15-policy-propose");
	await p.alice.page.click("#propose-submit");
	const said = await message(p.alice.page, "#msg", "ok");
	const m = /^Change (\d+) proposed: review_due becomes 86400/
	    .exec(said);
	if (m === null)
		throw new Error(`policy proposal: ${said}`);
	log(`alice proposed change ${m[1]} on the Policy page`);
	step = "frank, an auditor, follows the change";
	await p.frank.page.goto("/requests.html");
	const follow = p.frank.page.locator(`#req-${m[1]}`);
	await follow.waitFor();
	const why = (await follow.locator(".no-vote").textContent()).trim();
	if (await follow.locator("button").count() !== 0 || why !==
	    "You can follow this change; approving is for approvers.")
		throw new Error(`frank's change card: ${why}`);
	for (const who of [p.bob, p.carol]) {
		const ok = await approve(who, Number(m[1]), "ok");
		if (!/Your approval is recorded/.test(ok))
			throw new Error(`${who.name}'s approval: ${ok}`);
	}
	step = "the drift is gone";
	await p.frank.page.goto("/grants.html");
	await p.frank.page.locator("#signout").waitFor();
	if (await p.frank.page.locator("#drift").count() !== 0)
		throw new Error("drift still shown after the approved change");
	log(`change ${m[1]} applied by bob and carol; no drift left`);
}

/* alice's new-key invitation for name on the People page; its link. */
async function newKeyLink(alice, name, gov, tmp) {
	step = `alice makes a new-key invitation for ${name}`;
	await alice.page.goto("/people.html");
	await alice.page.locator("#signout").waitFor();
	const card = alice.page.locator("article.card", { has:
	    alice.page.locator(`h2:text-is("${name}")`) });
	await card.waitFor();
	await card.locator("text=New key invitation...").click();
	if (gov) {
		/* Without them the page says what is missing. */
		await card.locator("text=Make the invitation").click();
		const missing = await message(card, ".msg", "error");
		if (!/needs the quorum: give the reason and the ticket/
		    .test(missing))
			throw new Error(`new key for ${name}: ${missing}`);
		await card.locator("input[id$='-reason']").fill(gov.reason);
		await card.locator("input[id$='-ticket']").fill(gov.ticket);
	}
	await card.locator("text=Make the invitation").click();
	const done = await message(card, ".msg", "ok");
	if (!new RegExp(`^Give ${name} this link, single use`).test(done))
		throw new Error(`new-key invitation for ${name}: ${done}`);
	const link = await card.locator("input.link").inputValue();
	if (!/\/enroll\.html#tki_/.test(link))
		throw new Error(`new-key link for ${name}: ${link}`);
	await shot(alice, tmp, `16-new-key-${name}`);
	log(`alice made a new-key invitation for ${name}`);
	return link;
}

/* name registers a new key, in a browser of its own, with link. */
async function newKeyRegistered(name, base, link, want) {
	const fresh = await person(name, base);
	step = `${name} registers a new key`;
	await fresh.page.goto(link);
	await fresh.page.click("#enroll-button");
	const text = await message(fresh.page, "#msg", "ok");
	const m = want.exec(text);
	if (m === null)
		throw new Error(`${name}'s new key: ${text}`);
	log(`${name} registered a new key: "${text.slice(0, 70)}..."`);
	return { fresh, m };
}

/*
 * New-key invitations from the People page: frank, an auditor, has his
 * new key at once; bob's, an approver's, needs a reason and a ticket and
 * then carol and dave (alice proposed it, and it is about bob).
 */
async function newKeysFromPeople(p, base, tmp) {
	const frank = await newKeyRegistered("frank", base,
	    await newKeyLink(p.alice, "frank", null, tmp),
	    /^Your new key is registered, frank\. You can sign in with it/);
	await signIn(frank.fresh);
	const bob = await newKeyRegistered("bob", base,
	    await newKeyLink(p.alice, "bob", { reason: "key left in a taxi",
	    ticket: "SEC-77" }, tmp),
	    new RegExp("^Your new key is registered, bob, and waits for " +
	    "the approvers \\(change (\\d+)\\)"));
	await shot(bob.fresh, tmp, "17-new-key-waiting");
	for (const who of [p.carol, p.dave]) {
		await signIn(who);
		const ok = await approve(who, Number(bob.m[1]), "ok");
		if (!/Your approval is recorded/.test(ok))
			throw new Error(`${who.name}'s approval: ${ok}`);
	}
	await signIn(bob.fresh);
	log(`bob's new key signs in once carol and dave approved`);
}

async function mainJob(tmp) {
	const port = await freePort();
	step = "make run's daemon starts";
	const { state, links, root } = await startDaemon(tmp, port);
	const base = `https://localhost:${port}`;
	log(`daemon up at ${base}, state ${state}`);
	const spki = spkiHash(path.join(state, "daemon/tls/cert.pem"));

	step = "chromium starts";
	if (!fs.existsSync(chromiumPath))
		throw new Error(`${chromiumPath} is missing: run ` +
		    "deploy/install-deps.sh --browser");
	const { chromium } = require("playwright-core");
	browser = await chromium.launch({ executablePath: chromiumPath,
	    headless: true, args: [
		/* CI runs as root, and chromium's sandbox refuses root. */
		"--no-sandbox",
		/* Trust the appliance's own certificate, that key only. */
		`--ignore-certificate-errors-spki-list=${spki}`,
		"--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync"] });
	log(`chromium ${browser.version()}`);

	const p = {};
	for (const n of ["alice", "bob", "carol", "dave", "erin", "frank"])
		p[n] = await person(n, base);

	await enroll(p.alice, links.alice, tmp, "01-enroll");
	await enroll(p.bob, links.bob);
	await enroll(p.carol, links.carol);

	await signIn(p.alice, tmp, "02-signin");
	await shot(p.alice, tmp, "03-requests-empty");
	await keyboard(p.alice, tmp);
	await advice(p.alice);
	const inv = {
		dave: await invite(p.alice, "dave", "ops",
		    ["commander", "approver"],
		    { reason: "on call for the database from Monday",
		    ticket: "CHG-1042" }, tmp),
		erin: await invite(p.alice, "erin", "dev", ["requester"]),
		frank: await invite(p.alice, "frank", "audit", ["auditor"]),
	};
	await shot(p.alice, tmp, "04-invite");
	const change = await enroll(p.dave, inv.dave, tmp, null, true);
	await shot(p.dave, tmp, "04-enroll-waiting");
	await enroll(p.erin, inv.erin);
	await enroll(p.frank, inv.frank);
	await approveEnrollment(p, change, tmp);

	/* A key whose answer does not verify: refused, and said so. */
	step = "erin's key gives a bad signature";
	await p.erin.cdp.send("WebAuthn.setResponseOverrideBits", {
	    authenticatorId: p.erin.authenticatorId, isBogusSignature: true });
	await p.erin.page.goto("/index.html");
	await p.erin.page.fill("#name", "erin");
	await p.erin.page.click("#signin-button");
	const refused = await message(p.erin.page, "#msg", "error");
	if (!/^Sign-in refused: .*\(signin_failed\)\. Use the key/
	    .test(refused))
		throw new Error(`bad signature: ${refused}`);
	await shot(p.erin, tmp, "12-key-refused");
	await p.erin.cdp.send("WebAuthn.setResponseOverrideBits", {
	    authenticatorId: p.erin.authenticatorId });
	log(`erin's bad signature refused: "${refused}"`);
	await signIn(p.erin);

	await signIn(p.dave);
	const id = await breakglass(p.dave, "INC-4242", "db:admin, db:read",
	    "primary database refuses writes");
	await shot(p.dave, tmp, "05-breakglass");

	/* dave is an approver too, but never of his own request. */
	const self = await approve(p.dave, id, "error");
	if (!/refused: requester cannot approve \(self_approval\)\. You asked/
	    .test(self))
		throw new Error(`dave's own approval: ${self}`);
	await shot(p.dave, tmp, "06-self-approval-refused");
	log(`dave's own approval refused: "${self}"`);

	await p.bob.page.goto("/requests.html");
	const card = p.bob.page.locator(`#req-${id}`);
	await card.waitFor();
	const facts = await card.textContent();
	for (const want of ["Asked by", "dave (team ops)", "INC-4242",
	    "db:admin", "db:read", "primary database refuses writes",
	    "60 min", "Open until"])
		if (!facts.includes(want))
			throw new Error(`request card lacks "${want}"`);
	await shot(p.bob, tmp, "07-request-before-approval");
	const first = await approve(p.bob, id, "ok");
	if (!/pending \(1 approval counted\)/.test(first))
		throw new Error(`bob's approval: ${first}`);
	log(`bob approved: "${first}"`);

	await secondTab(p.carol);
	const second = await approve(p.carol, id, "ok");
	if (!/granted \(2 approvals counted\)/.test(second))
		throw new Error(`carol's approval: ${second}`);
	const who = (await p.carol.page.locator(".who").textContent()).trim();
	if (!/^Signed in as carol /.test(who))
		throw new Error(`carol's second tab: ${who}`);
	await shot(p.carol, tmp, "08-approved");
	log(`carol approved in her second tab: "${second}"`);

	step = "dave sees the grant";
	await p.dave.page.goto("/grants.html");
	const grant = p.dave.page.locator(`#grant-${id}`);
	await grant.waitFor();
	const expires = (await grant.locator(".expires").textContent()).trim();
	if (!/^\d{4}-\d\d-\d\d \d\d:\d\d \(in (59|60) min\)$/.test(expires))
		throw new Error(`grant expiry shows "${expires}"`);
	await grant.locator("text=Show my token").click();
	await grant.locator("textarea.token").waitFor();
	const token = await grant.locator("textarea.token").inputValue();
	if (!/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/.test(token))
		throw new Error("no grant token shown");
	await shot(p.dave, tmp, "09-grant");
	log(`grant for request ${id} shown, expires ${expires}`);

	step = "dave files the post-incident review";
	await grant.locator("textarea[id^=review-]").fill(
	    "disk full on the primary; writes resumed after cleanup");
	await grant.locator("text=File review").click();
	await message(grant, ".msg", "ok");
	await shot(p.dave, tmp, "10-review-filed");
	await revoke(p.bob, id, "dave", tmp);

	const other = await breakglass(p.dave, "INC-4243", "db:admin",
	    "just in case");
	step = "bob rejects with a reason";
	await p.bob.page.goto("/requests.html");
	const rcard = p.bob.page.locator(`#req-${other}`);
	await rcard.waitFor();
	await rcard.locator("text=Reject...").click();
	await rcard.locator("textarea").fill("no incident: INC-4243 is closed");
	await shot(p.bob, tmp, "11-reject-with-reason");
	await rcard.locator("text=Reject with security key").click();
	const rejected = await message(rcard, ".msg", "ok");
	if (!/rejection is recorded. The request is now rejected/
	    .test(rejected))
		throw new Error(`bob's rejection: ${rejected}`);
	log(`bob rejected request ${other}: "${rejected}"`);

	await suspendFromPeople(p.alice, p.erin, tmp);
	await signIn(p.frank, tmp);
	await exportAndVerify(p.frank, tmp, root);
	await policyDrift(p.frank, state, tmp);
	await adoptDriftFromPolicyPage(p, tmp);
	await newKeysFromPeople(p, base, tmp);
}

async function stopDaemon() {
	if (daemon === null || daemon.exitCode !== null)
		return;
	const done = new Promise((r) => daemon.on("exit", r));
	/* run-embedded.sh ends in exec twokeyd: this pid is the daemon. */
	daemon.kill("SIGTERM");
	await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
	if (daemon.exitCode === null)
		daemon.kill("SIGKILL");
}

(async function () {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(),
	    "twokey-browser."));
	let rc = 0;

	/* The daemon drops root to its own account, which must reach its
	 * state folder inside this one. */
	fs.chmodSync(tmp, 0o711);
	fs.mkdirSync(path.join(tmp, "screenshots"));
	try {
		await mainJob(tmp);
		log("browser end-to-end: passed");
	} catch (e) {
		rc = 1;
		console.error(`browser end-to-end FAILED at "${step}": ` +
		    `${e && e.stack ? e.stack : e}`);
		if (browser !== null) {
			for (const c of browser.contexts())
				for (const pg of c.pages())
					await pg.screenshot({ path: path.join(tmp,
					    "screenshots", `failure-${Date.now()}` +
					    ".png") }).catch(() => {});
		}
	}
	if (browser !== null)
		await browser.close().catch(() => {});
	await stopDaemon();
	/* The token and its PIN files go; on failure they stay to look at. */
	if (rc === 0)
		fs.rmSync(path.join(tmp, "state"), { recursive: true,
		    force: true });
	console.log(`screenshots: ${path.join(tmp, "screenshots")}`);
	console.log(`daemon log: ${path.join(tmp, "daemon.log")}`);
	log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
	process.exit(rc);
}());
