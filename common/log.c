/*
 * Logging to stderr, where journald collects it under systemd. One line
 * per message, with the level and the function that decided it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "twokey/common.h"

static enum tk_log_level log_level = TK_LOG_INFO;
static const char *log_ident = "twokey";

void
tk_log_set_level(enum tk_log_level level)
{
	log_level = level;
}

void
tk_log_set_ident(const char *ident)
{
	log_ident = ident;
}

static const char *
level_name(enum tk_log_level level)
{
	switch (level) {
	case TK_LOG_ERROR:
		return "error";
	case TK_LOG_WARN:
		return "warning";
	case TK_LOG_INFO:
		return "info";
	case TK_LOG_DEBUG:
		return "debug";
	}
	return "?";
}

void
tk_log_at(enum tk_log_level level, const char *func, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s[%ld]: %s: %s: %s\n", log_ident, (long)getpid(),
	    level_name(level), func, msg);
}

char *
tk_log_escape(char *out, size_t cap, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (cap < 8) {
		if (cap > 0)
			out[0] = '\0';
		return out;
	}
	for (i = 0; i < len && in != NULL; i++) {
		unsigned char c = (unsigned char)in[i];

		if (o + 4 + 4 > cap) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0x0f];
		}
	}
	out[o] = '\0';
	return out;
}

const char *
tk_strerror(int err)
{
	switch (err) {
	case TK_OK:
		return "success";
	case TK_ERR_NOMEM:
		return "out of memory";
	case TK_ERR_INVALID:
		return "malformed input";
	case TK_ERR_TOOBIG:
		return "input too large";
	case TK_ERR_IO:
		return "input/output error";
	case TK_ERR_PERM:
		return "file is readable or writable by others";
	}
	return "unknown error";
}
