/*
 * Specifications of twokeyd's readiness and watchdog under systemd,
 * spoken without libsystemd (firmware-host/notify.c): the test plays
 * systemd, a datagram socket named by NOTIFY_SOCKET (abstract, so that
 * the daemon can reach it after dropping root), and reads what arrives.
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/daemon_fixture.h"
#include "../lib/token_fixture.h"

static struct tkd d;
static int sock = -1;
static int running;

/* A datagram socket at "@name" in the abstract namespace. */
static int
listen_notify(char *name, size_t cap)
{
	struct sockaddr_un sa;
	size_t n;

	snprintf(name, cap, "@twokey-notify-%ld", (long)getpid());
	n = strlen(name);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + 1, name + 1, n - 1);
	if ((sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	return bind(sock, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
}

static int
setup(void **state)
{
	char name[64];

	(void)state;
	if (listen_notify(name, sizeof(name)) != 0 ||
	    setenv("NOTIFY_SOCKET", name, 1) != 0 ||
	    setenv("WATCHDOG_USEC", "2000000", 1) != 0 ||
	    unsetenv("WATCHDOG_PID") != 0 ||
	    tkd_init(&d, "notify", "") != 0 || tkd_start(&d) != 0)
		return -1;
	running = 1;
	return 0;
}

static int
teardown(void **state)
{
	int r = 0;

	(void)state;
	if (running)
		r = tkd_stop(&d, SIGTERM);
	tkd_cleanup();
	if (sock >= 0)
		close(sock);
	return r == 0 ? 0 : -1;
}

/* Reads datagrams until one is exactly want; 1 if it came within ms. */
static int
received(const char *want, unsigned int ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct timespec t0, t;
	char buf[512];
	ssize_t n;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = (long)tk_fixture_ms(ms) - ((t.tv_sec - t0.tv_sec) *
		    1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return 0;
		if ((n = recv(sock, buf, sizeof(buf) - 1, 0)) < 0)
			return 0;
		buf[n] = '\0';
		if (strcmp(buf, want) == 0)
			return 1;
	}
}

static void
readiness_is_sent_once_serving(void **state)
{
	(void)state;
	assert_true(received("READY=1\nSTATUS=serving", 10000));
}

static void
watchdog_is_fed_at_half_its_interval(void **state)
{
	(void)state;
	/* WATCHDOG_USEC is 2 s: a ping every second. */
	assert_true(received("WATCHDOG=1", 3000));
	assert_true(received("WATCHDOG=1", 3000));
}

static void
reload_is_announced_then_readiness_again(void **state)
{
	(void)state;
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	assert_true(received("RELOADING=1", 5000));
	assert_true(received("READY=1", 5000));
}

static void
stop_is_announced(void **state)
{
	(void)state;
	running = 0;
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
	assert_true(received("STOPPING=1", 1000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(readiness_is_sent_once_serving),
		cmocka_unit_test(watchdog_is_fed_at_half_its_interval),
		cmocka_unit_test(reload_is_announced_then_readiness_again),
		cmocka_unit_test(stop_is_announced),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
