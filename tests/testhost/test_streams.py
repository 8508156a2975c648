# SPDX-License-Identifier: Apache-2.0
"""Unit tests: marker lines out of the command's output (MarkerStream) and valid TAP across
retries (TapOutput), testhost_lib.streams."""

import io
import unittest

from testhost_lib.streams import MarkerStream, TapOutput

NONCE = "0123456789abcdef"
START = f"@@CHD-TESTHOST-{NONCE}-START@@\n".encode()


def exit_marker(status, nonce=NONCE):
    return f"@@CHD-TESTHOST-{nonce}-EXIT={status}@@\n".encode()


class Markers(unittest.TestCase):
    def feed_all(self, chunks):
        out = io.BytesIO()
        s = MarkerStream(NONCE, out)
        for i, c in enumerate(chunks):
            s.feed(c, float(i))
        s.flush()
        return s, out.getvalue()

    def test_markers_taken_out(self):
        s, out = self.feed_all([START + b"hello\nworld\n" + exit_marker(3)])
        self.assertEqual(out, b"hello\nworld\n")
        self.assertEqual((s.started, s.status), (0.0, 3))

    def test_split_anywhere(self):
        data = b"line one\n" + START + b"partial" + b"\n" + exit_marker(42)
        for cut in range(1, len(data)):
            s, out = self.feed_all([data[:cut], data[cut:]])
            self.assertEqual(out, b"line one\npartial\n", cut)
            self.assertEqual(s.status, 42, cut)
            self.assertIsNotNone(s.started)

    def test_byte_by_byte(self):
        data = START + b"x" * 100 + exit_marker(0)
        s, out = self.feed_all([data[i:i + 1] for i in range(len(data))])
        self.assertEqual((out, s.status), (b"x" * 100, 0))

    def test_other_nonce_passes(self):
        other = exit_marker(9, "ffffffffffffffff")
        s, out = self.feed_all([other + b"@@CHD-TESTHOST-HEARTBEAT@@\n" + exit_marker(1)])
        self.assertEqual(out, other + b"@@CHD-TESTHOST-HEARTBEAT@@\n")
        self.assertEqual(s.status, 1)

    def test_after_exit_dropped(self):
        s, out = self.feed_all([b"a\n" + exit_marker(5) + b"late\n", b"later\n"])
        self.assertEqual((out, s.status), (b"a\n", 5))

    def test_no_status(self):
        # A prefix that never completes is output after all, at the end.
        s, out = self.feed_all([b"out\n@@CHD-TESTHOST-" + NONCE.encode()])
        self.assertIsNone(s.status)
        self.assertEqual(out, b"out\n@@CHD-TESTHOST-" + NONCE.encode())

    def test_live(self):
        # Output is passed on as it comes, not held until the end.
        out = io.BytesIO()
        s = MarkerStream(NONCE, out)
        s.feed(b"ok 1 - first\n", 0.0)
        self.assertEqual(out.getvalue(), b"ok 1 - first\n")


def tap(*attempts):
    """The output of TapOutput for ATTEMPTS, each a list of chunks, retrying between them."""
    raw = io.BytesIO()
    t = TapOutput(raw)
    for i, chunks in enumerate(attempts):
        if i:
            t.begin_retry()
        for c in chunks:
            t.write(c)
    t.close()
    return raw.getvalue()


class Tap(unittest.TestCase):
    def test_first_attempt_unchanged(self):
        self.assertEqual(tap([b"1..3\nok 1\nnot TAP\nok 2"]), b"1..3\nok 1\nnot TAP\nok 2")

    def test_retry_drops_repeats(self):
        self.assertEqual(tap([b"1..3\nok 1 - a\nnot ok 2 - b\n# L1 froze"],
                             [b"1..3\nok 1 - a\n", b"ok 2 - b\nok 3 - c\n# done\n"]),
                         b"1..3\nok 1 - a\nnot ok 2 - b\n# L1 froze\nok 3 - c\n# done\n")

    def test_cut_test_point_counts(self):
        self.assertEqual(tap([b"1..2\nok 1 - a\nok 2 - cut sh"], [b"1..2\nok 1 - a\nok 2 - b\n"]),
                         b"1..2\nok 1 - a\nok 2 - cut sh\n")

    def test_no_plan_before_retry(self):
        self.assertEqual(tap([b"booting\n"], [b"1..1\nok 1\n"]), b"booting\n1..1\nok 1\n")

    def test_three_attempts(self):
        self.assertEqual(tap([b"1..3\nok 1\n"], [b"1..3\nok 1\nok 2\n"],
                             [b"1..3\nok 1\nok 2\nok 3\n"]),
                         b"1..3\nok 1\nok 2\nok 3\n")


if __name__ == "__main__":
    unittest.main()
