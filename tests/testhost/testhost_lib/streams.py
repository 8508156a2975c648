# SPDX-License-Identifier: Apache-2.0
"""The command's output on its way from L1's ttyS1 to testhost's stdout: MarkerStream takes out
testhost's own marker lines (L1 up, the exit status), TapOutput keeps the combined output of
several attempts (--retries) valid TAP."""

import re


class MarkerStream:
    """Copy the command's output to stdout live, taking out testhost's own marker lines."""

    def __init__(self, nonce, out):
        self.prefix = f"@@CHD-TESTHOST-{nonce}-".encode()
        self.re = re.compile(re.escape(self.prefix) + rb"(START|EXIT=(\d+))@@\n")
        self.out = out
        self.buf = b""
        self.started = None
        self.status = None

    def feed(self, data, now):
        self.buf += data
        while self.status is None:
            m = self.re.search(self.buf)
            if not m:
                break
            self.emit(self.buf[:m.start()])
            self.buf = self.buf[m.end():]
            if m.group(1) == b"START":
                self.started = now
            else:
                self.status = int(m.group(2))
        if self.status is not None:
            self.buf = b""
            return
        # Hold back a tail that may be the beginning of a marker split across reads.
        keep = len(self.buf)
        for i in range(max(0, len(self.buf) - len(self.prefix) - 12), len(self.buf)):
            tail = self.buf[i:]
            if self.prefix.startswith(tail) or (
                    tail.startswith(self.prefix) and b"\n" not in tail):
                keep = i
                break
        self.emit(self.buf[:keep])
        self.buf = self.buf[keep:]

    def flush(self):
        self.emit(self.buf)
        self.buf = b""

    def emit(self, data):
        if data:
            self.out.write(data)
            self.out.flush()


class TapOutput:
    """The command's output on its way to stdout.  Across retries it keeps the stream valid TAP:
    a retry's plan line and the test points the failed attempt already printed are dropped, so
    each test point is reported once (output that is not TAP passes unchanged)."""

    POINT = re.compile(rb"(?:not )?ok (\d+)\b")
    PLAN = re.compile(rb"1\.\.\d+")

    def __init__(self, raw):
        self.raw = raw
        self.partial = b""  # the current line so far
        self.plan = False
        self.last = 0
        self.retrying = False
        self.at_line_start = True

    def write(self, data):
        if not data:
            return
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        if not self.retrying:  # first attempt: pass everything at once, just take notes
            self.raw.write(data)
            self.at_line_start = data.endswith(b"\n")
            for line in lines:
                self._note(line)
            return
        for line in lines:  # a retry: line by line, so that repeats can be dropped
            if self.PLAN.match(line) and self.plan:
                continue
            m = self.POINT.match(line)
            if m and int(m.group(1)) <= self.last:
                continue
            self._note(line)
            self.raw.write(line + b"\n")

    def _note(self, line):
        if self.PLAN.match(line):
            self.plan = True
        m = self.POINT.match(line)
        if m:
            self.last = max(self.last, int(m.group(1)))

    def flush(self):
        self.raw.flush()

    def begin_retry(self):
        self._note(self.partial)  # a test point cut short still counts as printed
        if not self.at_line_start:
            self.raw.write(b"\n")
        self.partial = b""
        self.retrying = True
        self.raw.flush()

    def close(self):
        if self.retrying and self.partial:
            self.raw.write(self.partial)
        self.partial = b""
        self.raw.flush()

