/*
 * "twokey-verify log": the journal export check as a subcommand of the
 * twokey-verify program (export.h does the work).
 */
#ifndef TWOKEY_VERIFY_LOG_H
#define TWOKEY_VERIFY_LOG_H

/*
 * argv[0] is "log". Returns the process exit status: 0 only when the
 * whole export verifies; otherwise twokey-verify's codes: 1 signature,
 * 2 usage, 3 input, 4 malformed, 5 key or certificate chain, 6 the log
 * does not hold (edited, deleted, reordered, truncated, inconsistent,
 * forked), 7 internal.
 */
int tk_verify_log_main(int argc, char **argv);

#endif
