// gunzip_oracle reads ONE gzip member from stdin with Go's compress/gzip, the reader docker and
// containerd use for tar+gzip layers, and writes the uncompressed bytes to stdout. The reader
// checks the CRC-32 and the size in the trailer. Multistream is off and anything left after the
// member is an error: the layers keel writes are a single member.
//
// Used by crates/keel-archive/tests/layer/parallel_gzip.rs: `go run gunzip_oracle.go`.
package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

func fail(code int, err error) {
	fmt.Fprintln(os.Stderr, "gunzip_oracle:", err)
	os.Exit(code)
}

func main() {
	in := bufio.NewReader(os.Stdin)
	r, err := gzip.NewReader(in)
	if err != nil {
		fail(1, err)
	}
	r.Multistream(false)
	out := bufio.NewWriter(os.Stdout)
	if _, err := io.Copy(out, r); err != nil {
		fail(1, err)
	}
	if err := out.Flush(); err != nil {
		fail(1, err)
	}
	if _, err := in.ReadByte(); err != io.EOF {
		fail(2, fmt.Errorf("data after the first gzip member"))
	}
}
