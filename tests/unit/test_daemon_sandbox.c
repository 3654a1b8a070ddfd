/*
 * Specifications of twokeyd's process sandbox, on the real binary started
 * as root (as in CI) and dropping to "nobody": both processes run under
 * their seccomp filters and are not dumpable, without core dumps; and a
 * signer killed under the unprivileged daemon comes back through the
 * root supervisor, able to read the root-only PIN file, so the next
 * signature works. Under valgrind, which cannot install a filter (see
 * tests/lib/token_fixture.h), both run without one, and the checks of
 * the filters are skipped with a note; all else is checked.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "twokey/approvals.h"
#include "../lib/daemon_fixture.h"
#include "../lib/proc_probe.h"
#include "../lib/softauthn.h"
#include "../lib/token_fixture.h"

static struct tkd d;
static struct tkd_key alice;

static int
setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;	/* each test skips */
	if (tkd_init(&d, "sandbox", ",\n\"rate_limit_per_minute\": 1000") !=
	    0 || tkd_enroll(&d, "alice", "ops", TK_ROLE_APPROVER, &alice) != 0)
		return -1;
	return tkd_start(&d);
}

static int
teardown(void **state)
{
	int r = 0;

	(void)state;
	if (d.pid > 0)
		r = tkd_stop(&d, SIGTERM);
	softauthn_free(&alice.sa);
	tkd_cleanup();
	return r == 0 ? 0 : -1;
}

/* twokeyd's child is the supervisor; the supervisor's is the signer. */
static pid_t
signer_pid(void)
{
	pid_t sv = tk_probe_child(d.pid);

	return sv > 0 ? tk_probe_child(sv) : -1;
}

static long
uid_of(pid_t pid)
{
	char path[64], line[256];
	long uid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Uid:", 4) == 0)
			uid = strtol(line + 4, NULL, 10);
	fclose(f);
	return uid;
}

static void
daemon_and_signer_run_under_their_filters(void **state)
{
	pid_t signer;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_true((signer = signer_pid()) > 0);
	assert_true(tk_probe_capabilities(signer) == 0);
	if (tk_fixture_under_valgrind()) {
		tk_fixture_note("under valgrind no seccomp filter can be "
		    "installed; not checked: twokeyd and the signer run "
		    "under theirs");
		return;
	}
	assert_int_equal(tk_probe_seccomp(d.pid), 2);
	assert_int_equal(tk_probe_seccomp(signer), 2);
	assert_true(tkd_log_has(&d, "system call filter installed", 0));
}

static void
daemon_and_signer_are_not_dumpable(void **state)
{
	pid_t signer, ctl_nobody, ctl_root;
	int seen_nobody, seen_root;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_true((signer = signer_pid()) > 0);
	assert_int_equal(uid_of(d.pid), 65534);
	assert_int_equal(uid_of(signer), 0);
	/* Controls: the probe sees a dumpable process of each user. */
	assert_true((ctl_nobody = tk_probe_sleeper(65534)) > 0);
	assert_true((ctl_root = tk_probe_sleeper(0)) > 0);
	seen_nobody = tk_probe_dumpable(ctl_nobody);
	seen_root = tk_probe_dumpable(ctl_root);
	kill(ctl_nobody, SIGKILL);
	kill(ctl_root, SIGKILL);
	waitpid(ctl_nobody, NULL, 0);
	waitpid(ctl_root, NULL, 0);
	assert_int_equal(seen_nobody, 1);
	assert_int_equal(seen_root, 1);
	assert_int_equal(tk_probe_dumpable(d.pid), 0);
	assert_int_equal(tk_probe_dumpable(signer), 0);
}

static void
daemon_and_signer_have_no_core_dumps(void **state)
{
	pid_t pids[2];
	char path[64], line[256];
	int i, seen;
	FILE *f;

	(void)state;
	if (geteuid() != 0)
		skip();
	pids[0] = d.pid;
	assert_true((pids[1] = signer_pid()) > 0);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/limits", (int)pids[i]);
		assert_non_null(f = fopen(path, "r"));
		seen = 0;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "Max core file size", 18) == 0)
				seen = strstr(line, " 0 ") != NULL &&
				    strstr(line, "bytes") != NULL;
		fclose(f);
		assert_true(seen);
	}
}

static int
wait_gone(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned int i;

	for (i = 0; i < tk_fixture_ms(5000) / 10; i++) {
		if (kill(pid, 0) != 0 && errno == ESRCH)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static const char *
pin_file(void)
{
	static char path[1024];
	const char *p = strstr(d.uri, "pin-source=file:");

	if (p == NULL)
		return NULL;
	p += strlen("pin-source=file:");
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(p, "&;"), p);
	return path;
}

static long
checkpoint_size(void)
{
	struct tkd_resp r;
	long n = -1;

	if (tkd_request(&d, "GET", "/api/v1/journal/checkpoint", NULL, NULL,
	    0, NULL, &r) != 0)
		return -1;
	if (r.status == 200 && strncmp(r.body, "twokey/localhost/journal\n",
	    25) == 0)
		n = strtol(r.body + 25, NULL, 10);
	tkd_resp_clear(&r);
	return n;
}

static void
killed_signer_comes_back_as_root_and_the_next_signature_works(void **state)
{
	struct stat st;
	pid_t old, fresh;
	long before;

	(void)state;
	if (geteuid() != 0)
		skip();
	/* The daemon cannot read the PIN; only root can. */
	assert_non_null(pin_file());
	assert_int_equal(stat(pin_file(), &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_mode & 077, 0);
	assert_int_equal(uid_of(d.pid), 65534);
	assert_true((old = signer_pid()) > 0);
	assert_true((before = checkpoint_size()) >= 1);
	assert_int_equal(kill(old, SIGKILL), 0);
	assert_true(wait_gone(old));
	/* Signing in journals the login under a freshly signed checkpoint. */
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_true(checkpoint_size() > before);
	assert_true((fresh = signer_pid()) > 0 && fresh != old);
	assert_int_equal(uid_of(fresh), 0);
	assert_true(tkd_log_has(&d, "killed by signal 9", 0));
	if (tk_fixture_under_valgrind())
		tk_fixture_note("under valgrind no seccomp filter can be "
		    "installed; not checked: the new signer runs under its "
		    "filter");
	else
		assert_int_equal(tk_probe_seccomp(fresh), 2);
}

static void
seccomp_off_is_a_loud_debugging_aid(void **state)
{
	struct tkd off;
	pid_t signer, sv;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(tkd_init(&off, "nofilter",
	    ",\n\"seccomp\": false"), 0);
	assert_int_equal(tkd_start(&off), 0);
	assert_true((sv = tk_probe_child(off.pid)) > 0);
	assert_true((signer = tk_probe_child(sv)) > 0);
	assert_int_equal(tk_probe_seccomp(off.pid), 0);
	assert_int_equal(tk_probe_seccomp(signer), 0);
	/* Only the filter is off: the signer still drops its rights. */
	assert_true(tk_probe_capabilities(signer) == 0);
	assert_true(tkd_log_has(&off, "warning: sandbox: seccomp is OFF", 0));
	assert_true(tkd_log_has(&off, "seccomp is OFF (--no-seccomp)", 0));
	assert_int_equal(tkd_stop(&off, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(daemon_and_signer_run_under_their_filters),
		cmocka_unit_test(daemon_and_signer_are_not_dumpable),
		cmocka_unit_test(daemon_and_signer_have_no_core_dumps),
		cmocka_unit_test(
		killed_signer_comes_back_as_root_and_the_next_signature_works),
		cmocka_unit_test(seccomp_off_is_a_loud_debugging_aid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
