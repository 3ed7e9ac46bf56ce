// Command multiuser serves several users over two session pools with the
// fleet layer (sessions/fleet): each user runs commands in their own
// session (identifiers derived from a secret key), users wait in line when
// the pools are full, spill over to the other pool, and at the end the
// reaper deletes the service's sessions, including one a "crashed" earlier
// run leaked, and leaves a foreign session alone.
//
// It fails closed: it uses the built-in emulator only when asked with
// -emulator (two pools of three slots each):
//
//	go run ./examples/multiuser -emulator
//
// Against Azure it needs real settings, and refuses to start without them:
//
//	AZURE_SUBSCRIPTION_ID=<id> SHELLPOOL_RESOURCE_GROUP=<rg> \
//	SHELLPOOL_POOLS=eastpool,westpool SHELLPOOL_FLEET_KEY=$(openssl rand -hex 32) \
//	go run ./examples/multiuser
//
// The signed-in principal needs Reader on the pools (to read their
// endpoint and maxConcurrentSessions) and the Session Executor role.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
)

type settings struct {
	emulator     bool
	subscription string
	group        string
	pools        []string
	key          []byte
	users        int
	commands     int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s, err := loadSettings(os.Args[1:], os.Getenv)
	if err == nil {
		err = run(ctx, s, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "multiuser:", err)
		os.Exit(1)
	}
}

// loadSettings reads flags and environment. Without -emulator every Azure
// setting is required: the program never falls back to the emulator.
func loadSettings(args []string, getenv func(string) string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("multiuser", flag.ContinueOnError)
	fs.BoolVar(&s.emulator, "emulator", false, "run against the built-in emulator (two pools of three slots)")
	fs.StringVar(&s.subscription, "subscription", getenv("AZURE_SUBSCRIPTION_ID"), "Azure subscription ID ($AZURE_SUBSCRIPTION_ID)")
	fs.StringVar(&s.group, "resource-group", getenv("SHELLPOOL_RESOURCE_GROUP"), "resource group of the pools ($SHELLPOOL_RESOURCE_GROUP)")
	pools := fs.String("pools", getenv("SHELLPOOL_POOLS"), "comma-separated session pool names ($SHELLPOOL_POOLS)")
	key := fs.String("key", getenv("SHELLPOOL_FLEET_KEY"), "hex-encoded secret key, at least 16 bytes, for the session identifiers ($SHELLPOOL_FLEET_KEY)")
	fs.IntVar(&s.users, "users", 6, "number of simulated users")
	fs.IntVar(&s.commands, "commands", 3, "commands per user")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if s.users < 1 || s.commands < 1 {
		return s, errors.New("-users and -commands must be at least 1")
	}
	for _, p := range strings.Split(*pools, ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.pools = append(s.pools, p)
		}
	}
	if s.emulator {
		s.key = make([]byte, 32)
		_, err := rand.Read(s.key)
		return s, err
	}
	var missing []string
	if s.subscription == "" {
		missing = append(missing, "AZURE_SUBSCRIPTION_ID (-subscription)")
	}
	if s.group == "" {
		missing = append(missing, "SHELLPOOL_RESOURCE_GROUP (-resource-group)")
	}
	if len(s.pools) == 0 {
		missing = append(missing, "SHELLPOOL_POOLS (-pools)")
	}
	if *key == "" {
		missing = append(missing, "SHELLPOOL_FLEET_KEY (-key)")
	}
	if len(missing) > 0 {
		return s, fmt.Errorf("missing %s; set them to use Azure, or pass -emulator to use the built-in emulator", strings.Join(missing, ", "))
	}
	k, err := hex.DecodeString(*key)
	if err != nil || len(k) < fleet.MinKeyLen {
		return s, fmt.Errorf("SHELLPOOL_FLEET_KEY must be at least %d bytes in hex (openssl rand -hex 32)", fleet.MinKeyLen)
	}
	s.key = k
	return s, nil
}

// connect returns the client options for Azure (and no credential of its
// own) and a function to call when done. The examples' emulator.go, which
// you leave out when you copy this program, replaces it to start the
// emulator with -emulator.
var connect = func(s *settings, out io.Writer) (opts azcore.ClientOptions, cred azcore.TokenCredential, stop func(), err error) {
	if s.emulator {
		return opts, nil, nil, errors.New("-emulator needs the examples' emulator.go next to main.go; without it this program uses Azure only")
	}
	return opts, nil, func() {}, nil
}

func run(ctx context.Context, s settings, out io.Writer) error {
	opts, emuCred, stop, err := connect(&s, out) // Azure, or the emulator with -emulator (emulator.go)
	if err != nil {
		return err
	}
	defer stop()
	cred, err := identity.NewCredential(nil)
	if emuCred != nil {
		cred, err = emuCred, nil
	}
	if err != nil {
		return err
	}
	armClient, err := pool.NewClient(s.subscription, cred, &pool.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: opts}})
	if err != nil {
		return err
	}
	var pools []fleet.Pool
	for _, name := range s.pools {
		p, err := fleet.PoolFromARM(ctx, armClient, s.group, name, cred, &sessions.ClientOptions{ClientOptions: opts})
		if err != nil {
			return err
		}
		pools = append(pools, p)
	}
	ids := fleet.IDs{Key: s.key, Prefix: "multiuser"}

	// An earlier run of the service crashed and left a session behind.
	crashed, err := fleet.New(&fleet.Options{IDs: ids, Pools: pools, KeepIdle: time.Hour})
	if err != nil {
		return err
	}
	if _, err := crashed.Execute(ctx, fleet.User{ID: "ghost"}, sessions.ShellCommand("true"), nil); err != nil {
		return err
	}

	f, err := fleet.New(&fleet.Options{IDs: ids, Pools: pools})
	if err != nil {
		return err
	}
	defer f.Close(context.Background())

	var mu sync.Mutex
	var lines []string
	var wg sync.WaitGroup
	errs := make(chan error, s.users)
	for i := range s.users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := fleet.User{Tenant: "demo", ID: fmt.Sprintf("user%d", i+1)}
			for k := range s.commands {
				cmd := sessions.ShellCommand(fmt.Sprintf("sleep 0.2; echo %s >> notes.txt; echo \"$(wc -l < notes.txt) note(s), all by $(sort -u notes.txt | tr '\\n' ' ')\"", u.ID))
				r, err := f.Execute(ctx, u, cmd, nil)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", u.ID, err)
					return
				}
				mu.Lock()
				lines = append(lines, fmt.Sprintf("%s command %d on %s after waiting %s: %s", u.ID, k+1, r.Pool, r.Waited.Round(10*time.Millisecond), strings.TrimSpace(r.Stdout)))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		return err
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	st := f.Stats()
	fmt.Fprintf(out, "Fleet: %d slots granted, %d calls reused their kept session, %d capacity answers absorbed, %d sessions reclaimed for waiting users\n",
		st.Grants, st.Reused, st.CapacityAnswers, st.Reclaims)

	// At shutdown, reap everything of this service that is not in use.
	res, err := f.Reap(ctx, &fleet.ReapOptions{All: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Reaper: listed %d sessions, deleted %d of this service's (one leaked by the crashed run), left %d foreign one(s) untouched\n",
		res.Listed, res.Deleted, res.Foreign)
	return nil
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}
