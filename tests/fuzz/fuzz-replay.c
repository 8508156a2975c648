/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a fuzz target over files (a corpus, crash reproducers) without libFuzzer, so every build,
 * gcc included, replays them as a test. Prints TAP. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	printf("1..%d\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		long size;

		if (!f || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
		    !(buf = malloc((size_t)size + 1)) || fread(buf, 1, (size_t)size, f) != (size_t)size) {
			printf("not ok %d %s: cannot read\n", i, argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)size); /* aborts on a finding */
		free(buf);
		printf("ok %d %s\n", i, argv[i]);
	}
	return 0;
}
