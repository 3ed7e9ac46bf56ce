// Package report reads the reports that the bash of sessions/shell (and,
// in the same form, sessions/proc) prints in an execution's answer: the
// inline content of a stream, then a record line tagged with a nonce, on
// both stdout and stderr, that gives the content's length and POSIX cksum.
// Live shell pools cut each stream at 4,096 bytes and sometimes lose the
// final write of stdout; a record on both streams and a checksum of the
// inline content turn either into a detected loss (the caller downloads
// the content instead), never a wrong answer. Quote quotes the words those
// scripts carry.
package report

import (
	"strconv"
	"strings"
)

// Find splits stream into the content before the record line tagged with
// tag ("\n<tag> ...\n"), and that line. ok is false when the stream holds no
// whole record line (it was cut or lost).
func Find(stream, tag string) (content, line string, ok bool) {
	i := strings.LastIndex(stream, "\n"+tag+" ")
	if i < 0 {
		return stream, "", false
	}
	rest := stream[i+1:]
	j := strings.IndexByte(rest, '\n')
	if j < 0 {
		return stream, "", false // the line itself was cut
	}
	return stream[:i], rest[:j], true
}

// Fields parses the "key=value" fields of a record line after its tag.
func Fields(line string) (map[string]string, bool) {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return nil, false
	}
	kv := make(map[string]string, len(fields)-1)
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, false
		}
		kv[k] = v
	}
	return kv, true
}

// Verify returns the inline content of a stream when it has the length and
// cksum the record gives, else nil. hadRecord says whether this stream
// carried the record: when it did not (its final write was lost), the
// newline printed before the record may still be there and is dropped.
func Verify(content string, hadRecord bool, length int64, sum uint32) []byte {
	if int64(len(content)) == length && Cksum([]byte(content)) == sum {
		return []byte(content)
	}
	if c, ok := strings.CutSuffix(content, "\n"); !hadRecord && ok && int64(len(c)) == length && Cksum([]byte(c)) == sum {
		return []byte(c)
	}
	return nil
}

// crcTable is the table of the POSIX cksum CRC (polynomial 0x04C11DB7,
// most significant bit first).
var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// Cksum is the checksum POSIX cksum prints for b.
func Cksum(b []byte) uint32 {
	var c uint32
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	for n := len(b); n > 0; n >>= 8 {
		c = c<<8 ^ crcTable[byte(c>>24)^byte(n)]
	}
	return ^c
}

// Locate finds the record tagged with tag on stdout or, when the service
// lost or cut it there, on stderr. line is the record line found first;
// outContent and errContent are what came before each stream's record, and
// onOut and onErr say which streams carried a whole record (only their
// content may be trusted, and only once Verify agrees). ok is false when
// neither stream did.
func Locate(stdout, stderr, tag string) (line, outContent, errContent string, onOut, onErr, ok bool) {
	outContent, outLine, onOut := Find(stdout, tag)
	errContent, errLine, onErr := Find(stderr, tag)
	switch {
	case onOut:
		line = outLine
	case onErr:
		line = errLine
	default:
		return "", "", "", false, false, false
	}
	return line, outContent, errContent, onOut, onErr, true
}

// ParseSegment checks one stream's fields of a record: mode is 'n'
// (nothing new), 'i' (inline) or 'd' (download name); length is the
// content's byte count (-1, only with 'd': the whole finished stream); sum
// is the inline content's cksum; name is the bare name of the file holding
// the content ("-" for none, which only 'n' may have), and must start with
// prefix so that a forged record cannot name another file. ok is false when
// any field is malformed.
func ParseSegment(mode, length, sum, name, prefix string) (m byte, l int64, k uint32, ok bool) {
	if len(mode) != 1 || (mode[0] != 'n' && mode[0] != 'i' && mode[0] != 'd') {
		return 0, 0, 0, false
	}
	l, err := strconv.ParseInt(length, 10, 64)
	if err != nil || l < -1 || (l == -1 && mode != "d") {
		return 0, 0, 0, false
	}
	s, err := strconv.ParseUint(sum, 10, 32)
	if err != nil {
		return 0, 0, 0, false
	}
	if name != "-" && !strings.HasPrefix(name, prefix) {
		return 0, 0, 0, false
	}
	if mode[0] != 'n' && name == "-" {
		return 0, 0, 0, false
	}
	return mode[0], l, uint32(s), true
}
