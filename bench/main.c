/* The benchmark binary: every bench/<family>.c registers itself with
 * CBENCH_INIT before main() runs; main only hands over to the shim. */
#include "shim/cbench.h"

int main(int argc, char **argv)
{
	return cbench_main(argc, argv);
}
