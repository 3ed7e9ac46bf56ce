// The examples run real commands in the emulator, which needs bash; on
// Windows, where bash may be missing, they are not built (the tests skip
// there instead).

//go:build !windows

package sessions_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// exampleClient starts the emulator and returns a client for its pool.
func exampleClient() (*sessions.Client, func()) {
	srv := sessionstest.NewServer(nil)
	client, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	if err != nil {
		log.Fatal(err)
	}
	return client, srv.Close
}

// Upload a file into a session, then read it back. The upload streams from
// any io.Reader (an *os.File works too; a reader that cannot seek is streamed in one attempt); "reports/q1.csv" goes to the
// directory reports under /mnt/data.
func ExampleClient_UploadFile() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	sessionID := sessions.NewSessionID()
	defer client.DeleteSession(ctx, sessionID, nil)

	up, err := client.UploadFile(ctx, sessionID, "reports/q1.csv", strings.NewReader("region,total\nnorth,42\n"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("uploaded", up.Name, up.SizeInBytes, "bytes")

	var buf bytes.Buffer
	if _, err := client.DownloadFileTo(ctx, sessionID, "reports/q1.csv", &buf, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Print(buf.String())
	// Output:
	// uploaded q1.csv 22 bytes
	// region,total
	// north,42
}

// Download a file as a stream: read the Body, then close it. A missing file
// is reported as ErrFileNotFound.
func ExampleClient_DownloadFile() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	sessionID := sessions.NewSessionID()
	defer client.DeleteSession(ctx, sessionID, nil)

	if _, err := client.UploadFile(ctx, sessionID, "notes.txt", strings.NewReader("hello from the session\n"), nil); err != nil {
		log.Fatal(err)
	}
	resp, err := client.DownloadFile(ctx, sessionID, "notes.txt", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes: %s", resp.ContentLength, buf.String())

	_, err = client.DownloadFile(ctx, sessionID, "missing.txt", nil)
	fmt.Println("missing file:", errors.Is(err, sessions.ErrFileNotFound))
	// Output:
	// 23 bytes: hello from the session
	// missing file: true
}

// A Session handle carries the identifier for you, and Close deletes the
// session so it stops counting against maxConcurrentSessions. Defer it.
func ExampleSessionClient() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()

	s := client.NewSessionClient(sessions.NewSessionID())
	defer s.Close(ctx) // idempotent: safe even after the explicit Close below

	if _, err := s.UploadFile(ctx, "input.txt", strings.NewReader("3 lines\nof\ninput\n"), nil); err != nil {
		log.Fatal(err)
	}
	res, err := s.Execute(ctx, sessions.ShellCommand("wc -l < input.txt"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print("lines: ", res.Stdout)

	for pager := s.NewListFilesPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		for _, f := range page.Value {
			fmt.Println("file:", f.Name, f.SizeInBytes)
		}
	}

	if err := s.Close(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = s.GetFile(ctx, "input.txt", nil)
	fmt.Println("after Close:", errors.Is(err, sessions.ErrSessionClosed))
	// Output:
	// lines: 3
	// file: input.txt 17
	// after Close: true
}
