/* SPDX-License-Identifier: Apache-2.0 */
#include "chctl.h"

int main(int argc, char **argv)
{
	return chctl_main(argc, argv);
}
