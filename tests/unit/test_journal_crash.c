/*
 * Crash safety: a child process appends in a loop and reports every
 * acknowledged index through a pipe; it is SIGKILLed (with its signer) at
 * a random moment, 50 times. After each kill every acknowledged entry
 * must be in the journal, and the journal must verify, including that it
 * only grew since the previous round's last checkpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "twokey/export.h"
#include "twokey/journal.h"
#include "../lib/token_fixture.h"
#include "journal_testutil.h"

#define ROUNDS 50
#define CHILD_THREADS 3

struct ack {
	uint64_t index;
	int64_t seq;
};

struct child {
	struct tk_journal *j;
	int fd, t;
	int64_t run;
};

static void *
child_thread(void *arg)
{
	struct child *c = arg;
	struct ack a;
	int64_t i;

	for (i = 0;; i++) {
		a.seq = c->run * 1000000 + c->t * 100000 + i;
		if (jt_append(c->j, a.seq, "crash", &a.index) != 0)
			_exit(3);
		if (write(c->fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
			_exit(4);
	}
	return NULL;
}

/* --child DB URI SIGNER FD RUN: append until killed. */
static int
child_main(char **argv)
{
	struct tk_signer_config sc;
	struct tk_journal_config jc;
	struct tk_signer *s = NULL;
	struct child c[CHILD_THREADS];
	pthread_t th[CHILD_THREADS];
	struct tk_journal *j = NULL;
	int fd = (int)strtol(argv[5], NULL, 10), i;

	fcntl(fd, F_SETFD, FD_CLOEXEC);
	memset(&sc, 0, sizeof(sc));
	sc.uri = argv[3];
	sc.signer_path = argv[4];
	sc.timeout_ms = tk_fixture_ms(5000);
	sc.no_seccomp = tk_fixture_under_valgrind();
	memset(&jc, 0, sizeof(jc));
	jc.path = argv[2];
	jc.origin = JT_ORIGIN;
	if (tk_signer_start(&sc, &s) != 0)
		return 1;
	jc.signer = s;
	if (tk_journal_open(&jc, &j) != 0)
		return 2;
	for (i = 0; i < CHILD_THREADS; i++) {
		c[i].j = j;
		c[i].fd = fd;
		c[i].t = i;
		c[i].run = strtoll(argv[6], NULL, 10);
		pthread_create(&th[i], NULL, child_thread, &c[i]);
	}
	for (i = 0; i < CHILD_THREADS; i++)
		pthread_join(th[i], NULL);
	return 0;
}

static struct jt T;

static int
group_setup(void **state)
{
	(void)state;
	return jt_setup(&T, 0);
}

static int
group_teardown(void **state)
{
	(void)state;
	jt_teardown(&T);
	return 0;
}

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * This program's own path, for the child to run: the path, not
 * /proc/self/exe, which under valgrind names valgrind's tool.
 */
static char self[4096];

static pid_t
spawn_child(const char *db, int fd, int run)
{
	char fds[16], runs[16];
	char *argv[] = { self, "--child", (char *)(uintptr_t)db,
	    T.fx->uri, T.fx->signer_path, fds, runs, NULL };
	ssize_t n;
	pid_t pid;

	snprintf(fds, sizeof(fds), "%d", fd);
	snprintf(runs, sizeof(runs), "%d", run);
	if (self[0] == '\0') {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		assert_true(n > 0 && (size_t)n < sizeof(self) - 1);
		self[n] = '\0';
	}
	if ((pid = fork()) == 0) {
		setpgid(0, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Reads whole records until EOF; returns how many. */
static size_t
read_acks(int fd, struct ack *out, size_t max)
{
	size_t n = 0, got = 0;
	ssize_t r;
	uint8_t *p = (uint8_t *)out;

	while (n < max) {
		r = read(fd, p + got, sizeof(*out) * max - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		n = got / sizeof(*out);
	}
	return got / sizeof(*out);
}

/* Every acknowledged entry is present with its own content. */
static void
check_acks(struct tk_journal *j, const struct ack *a, size_t n)
{
	uint64_t size;
	uint8_t *leaf;
	size_t i, len;
	char want[64];

	assert_int_equal(tk_journal_size(j, &size), 0);
	for (i = 0; i < n; i++) {
		assert_true(a[i].index < size);
		assert_int_equal(tk_journal_entry_get(j, a[i].index, &leaf,
		    &len), 0);
		snprintf(want, sizeof(want), "{\"seq\":%lld,",
		    (long long)a[i].seq);
		assert_non_null(strstr((char *)leaf, want));
		free(leaf);
	}
}

static void
acked_entries_survive_sigkill_and_journal_verifies(void **state)
{
	struct tk_export_report rep;
	struct tk_journal *j = NULL;
	struct ack *acks;
	uint64_t seed, prev = 0, size, total = 0;
	char db[600], name[64], *since = NULL;
	size_t n, len;
	struct timespec ts;
	int fds[2], round, status;
	pid_t pid;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_nsec | 1;
	fprintf(stderr, "crash test seed %llu\n", (unsigned long long)seed);
	acks = malloc(1000000 * sizeof(*acks));
	jt_path(&T, "crash.db", db, sizeof(db));
	for (round = 0; round < ROUNDS; round++) {
		assert_int_equal(pipe(fds), 0);
		fcntl(fds[0], F_SETFD, FD_CLOEXEC);
		pid = spawn_child(db, fds[1], round);
		assert_true(pid > 0);
		close(fds[1]);
		/* Wait for the first acknowledgement, then a random while. */
		n = read_acks(fds[0], acks, 1);
		assert_int_equal(n, 1);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(next_rand(&seed) % 40) * 1000000L;
		nanosleep(&ts, NULL);
		kill(-pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		n += read_acks(fds[0], acks + 1, 999999);
		close(fds[0]);
		total += n;

		assert_int_equal(jt_open(&T, "crash.db", 0, &j), 0);
		check_acks(j, acks, n);
		assert_int_equal(tk_journal_size(j, &size), 0);
		snprintf(name, sizeof(name), "crash.export.%d", round);
		assert_int_equal(jt_export_check(&T, j, name, prev, 0, 0,
		    since, &rep), 0);
		free(since);
		assert_int_equal(tk_journal_checkpoint(j, 0, &since, &len), 0);
		prev = size;
		tk_journal_free(&j);
	}
	fprintf(stderr, "%d kills, %llu acknowledged entries, journal size "
	    "%llu\n", ROUNDS, (unsigned long long)total,
	    (unsigned long long)prev);
	/* The whole journal verifies at the end. */
	assert_int_equal(jt_open(&T, "crash.db", 0, &j), 0);
	assert_int_equal(jt_export_check(&T, j, "crash.export.all", 0, 0, 0,
	    since, &rep), 0);
	tk_journal_free(&j);
	free(since);
	free(acks);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    acked_entries_survive_sigkill_and_journal_verifies),
	};

	if (argc > 6 && strcmp(argv[1], "--child") == 0)
		return child_main(argv);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
