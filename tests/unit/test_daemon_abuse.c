/*
 * Specifications of twokeyd under abuse: the real binary on a loopback
 * port, attacked the ways a hostile client would (idle connections,
 * lock-out attempts, smuggled requests, truncated paths, key guessing),
 * each followed by a check that honest clients are still served.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "../lib/daemon_fixture.h"

#define JSON "application/json"

/* A TCP connection to the daemon from the loopback address src. */
static int
tcp_from(const struct tkd *d, const char *src)
{
	struct sockaddr_in a;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, src, &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto fail;
	a.sin_port = htons((uint16_t)d->port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
idle_connections_from_one_address_leave_room_for_others(void **state)
{
	struct tkd d;
	struct tkd_resp r;
	int fds[12];
	size_t i;

	(void)state;
	assert_int_equal(tkd_init(&d, "slowloris", ",\n"
	    "\"max_connections\": 12,\n\"max_connections_per_address\": 3"),
	    0);
	assert_int_equal(tkd_start(&d), 0);
	/* Every slot the server has, held open without a byte of TLS. */
	for (i = 0; i < 12; i++)
		assert_true((fds[i] = tcp_from(&d, "127.0.0.1")) >= 0);
	pause_ms(300);
	d.source = "127.0.0.2";
	assert_int_equal(tkd_request(&d, "GET", "/healthz", NULL, NULL, 0,
	    NULL, &r), 0);
	assert_int_equal(r.status, 200);
	tkd_resp_clear(&r);
	d.source = NULL;
	for (i = 0; i < 12; i++)
		close(fds[i]);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    idle_connections_from_one_address_leave_room_for_others),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	tkd_cleanup();
	curl_global_cleanup();
	return r;
}
