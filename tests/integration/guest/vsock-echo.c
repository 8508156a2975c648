/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny AF_VSOCK tool for test guests (busybox has no vsock), linked statically so it runs from a
 * busybox initramfs. Prints one marker line per command on stdout:
 *
 *   vsock-echo listen PORT             accept one connection, send back all it receives until EOF,
 *                                      then "CHD-VSOCK-ECHOED <bytes>"
 *   vsock-echo connect CID PORT TEXT   connect, send TEXT, shut the write side, read until EOF:
 *                                      "CHD-VSOCK-REPLY <what came back>", or
 *                                      "CHD-VSOCK-CONNECT-FAILED <errno>"
 *   vsock-echo sink PORT               accept one connection, read until EOF: "CHD-VSOCK-SUNK <bytes>"
 *   vsock-echo source CID PORT MIB     connect and send MIB MiB: "CHD-VSOCK-SENT <bytes> <seconds>" */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listen_accept(unsigned port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0) {
		printf("CHD-VSOCK-LISTEN-FAILED %d\n", errno);
		exit(1);
	}
	printf("CHD-VSOCK-LISTENING %u\n", port);
	fflush(stdout);
	int c = accept(s, NULL, NULL);
	if (c < 0) {
		printf("CHD-VSOCK-ACCEPT-FAILED %d\n", errno);
		exit(1);
	}
	close(s);
	return c;
}

static int connect_to(unsigned cid, unsigned port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("CHD-VSOCK-CONNECT-FAILED %d\n", errno);
		exit(1);
	}
	return s;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char buf[256 * 1024];
	unsigned long long total = 0;
	ssize_t n;

	if (argc == 3 && (strcmp(argv[1], "listen") == 0 || strcmp(argv[1], "sink") == 0)) {
		bool echo = strcmp(argv[1], "listen") == 0;
		int c = listen_accept((unsigned)strtoul(argv[2], NULL, 10));
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			total += (unsigned long long)n;
			if (echo && write_all(c, buf, (size_t)n) < 0)
				break;
		}
		printf("%s %llu\n", echo ? "CHD-VSOCK-ECHOED" : "CHD-VSOCK-SUNK", total);
		return n < 0;
	}
	if (argc == 5 && strcmp(argv[1], "connect") == 0) {
		int s = connect_to((unsigned)strtoul(argv[2], NULL, 10), (unsigned)strtoul(argv[3], NULL, 10));
		if (write_all(s, argv[4], strlen(argv[4])) < 0 || shutdown(s, SHUT_WR) < 0) {
			printf("CHD-VSOCK-SEND-FAILED %d\n", errno);
			return 1;
		}
		size_t got = 0;
		while (got < sizeof(buf) - 1 && (n = read(s, buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t)n;
		buf[got] = '\0';
		printf("CHD-VSOCK-REPLY %s\n", buf);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "source") == 0) {
		int s = connect_to((unsigned)strtoul(argv[2], NULL, 10), (unsigned)strtoul(argv[3], NULL, 10));
		unsigned long long want = strtoull(argv[4], NULL, 10) << 20;
		memset(buf, 'v', sizeof(buf));
		double t0 = now();
		while (total < want) {
			size_t k = want - total < sizeof(buf) ? (size_t)(want - total) : sizeof(buf);
			if (write_all(s, buf, k) < 0) {
				printf("CHD-VSOCK-SEND-FAILED %d\n", errno);
				return 1;
			}
			total += k;
		}
		shutdown(s, SHUT_WR);
		while (read(s, buf, sizeof(buf)) > 0)
			;
		printf("CHD-VSOCK-SENT %llu %.3f\n", total, now() - t0);
		return 0;
	}
	fprintf(stderr, "usage: vsock-echo listen PORT | sink PORT | connect CID PORT TEXT | source CID PORT MIB\n");
	return 2;
}
