/*
 * Specifications of deploy/twokeyd.service: systemd's own rating of its
 * sandbox (`systemd-analyze security --offline=true`) stays at 2.0 or
 * lower, and the settings the threat model relies on are there. A unit
 * stripped of its sandbox is rated too, so that the check can fail.
 *
 * Whether the unit starts the daemon is not tested here: that needs
 * systemd as PID 1, which a container does not have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char unit[1024];

static int
setup(void **state)
{
	const char *top = getenv("TWOKEY_TOP");

	(void)state;
	snprintf(unit, sizeof(unit), "%s/deploy/twokeyd.service",
	    top != NULL ? top : ".");
	return 0;
}

/* The overall exposure systemd-analyze gives path (0.0 to 10.0), or -1. */
static double
exposure(const char *path)
{
	char cmd[2048], line[512];
	double v = -1;
	FILE *p;
	char *at;

	snprintf(cmd, sizeof(cmd), "systemd-analyze security --offline=true "
	    "--no-pager '%s' 2>&1", path);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL)
		if ((at = strstr(line, "Overall exposure level for ")) !=
		    NULL && (at = strstr(at, ": ")) != NULL)
			v = strtod(at + 2, NULL);
	pclose(p);
	return v;
}

static void
unit_exposure_is_2_0_or_lower(void **state)
{
	double v;

	(void)state;
	v = exposure(unit);
	if (v < 0)
		fail_msg("systemd-analyze gave no rating (is systemd "
		    "installed? deploy/install-deps.sh)");
	print_message("exposure of deploy/twokeyd.service: %.1f\n", v);
	assert_true(v <= 2.0);
}

static void
unit_without_its_sandbox_is_rated_exposed(void **state)
{
	const char *tmp = getenv("TWOKEY_TEST_TMP");
	char path[600];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/bare.service",
	    tmp != NULL ? tmp : "/tmp");
	assert_non_null(f = fopen(path, "w"));
	fputs("[Service]\nType=notify\n"
	    "ExecStart=/usr/local/sbin/twokeyd -c /etc/twokey/twokeyd.conf\n",
	    f);
	assert_int_equal(fclose(f), 0);
	assert_true(exposure(path) > 2.0);
}

static int
has_line(const char *line)
{
	char buf[512];
	int found = 0;
	FILE *f = fopen(unit, "r");

	if (f == NULL)
		return 0;
	while (!found && fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		found = strcmp(buf, line) == 0;
	}
	fclose(f);
	return found;
}

static void
unit_has_the_sandbox_the_threat_model_names(void **state)
{
	static const char *const lines[] = {
		"User=twokey",
		"NoNewPrivileges=yes",
		"CapabilityBoundingSet=",
		"ProtectSystem=strict",
		"ProtectHome=yes",
		"PrivateTmp=yes",
		"PrivateDevices=yes",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
		"SystemCallFilter=@system-service seccomp",
		"MemoryDenyWriteExecute=yes",
		"LockPersonality=yes",
		"LimitCORE=0",
		"KillMode=mixed",
		"LoadCredential=user.pin:/etc/twokey/user.pin",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!has_line(lines[i]))
			fail_msg("deploy/twokeyd.service lacks \"%s\"",
			    lines[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit_exposure_is_2_0_or_lower),
		cmocka_unit_test(unit_without_its_sandbox_is_rated_exposed),
		cmocka_unit_test(unit_has_the_sandbox_the_threat_model_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
