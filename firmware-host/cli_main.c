/* twokey: the command-line client; see include/twokey/cli.h. */
#include "twokey/cli.h"

int
main(int argc, char **argv)
{
	return tk_cli_main(argc, argv, NULL);
}
