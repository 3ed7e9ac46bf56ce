package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

func instant(context.Context, sessionstest.ExecRequest) sessionstest.ExecResult {
	return sessionstest.ExecResult{Stdout: "ok"}
}

// BenchmarkOverhead measures the fleet's own cost per call: the same
// command against the same emulator (scripted, so the command itself costs
// nothing), bare sessions.Client.Execute and Fleet.Execute, interleaved in
// one run. The metric fleet/bare is the ratio of their mean times; the goal
// is <= 1.1.
//
//	go test ./sessions/fleet -run '^$' -bench Overhead
func BenchmarkOverhead(b *testing.B) {
	srv := newEmu(b, 5, &sessionstest.Options{Scripted: instant, MaxRecordedRequests: -1}, "poola")
	c := rawClient(b, srv, "poola")
	f := newFleet(b, srv, 5, []string{"poola"}, nil)
	ctx := context.Background()
	cmd := sessions.ShellCommand("true")
	u := fleet.User{Tenant: "t", ID: "bench"}
	id := sessions.NewSessionID()
	// Warm both paths: connections, the contract probe, the sessions.
	for range 20 {
		if _, err := c.Execute(ctx, id, cmd, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := f.Execute(ctx, u, cmd, nil); err != nil {
			b.Fatal(err)
		}
	}
	var bare, viaFleet time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := c.Execute(ctx, id, cmd, nil); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := f.Execute(ctx, u, cmd, nil); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		bare += t1.Sub(t0)
		viaFleet += t2.Sub(t1)
	}
	b.StopTimer()
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(viaFleet.Nanoseconds())/float64(b.N), "fleet-ns/op")
	b.ReportMetric(float64(viaFleet)/float64(bare), "fleet/bare")
}

// BenchmarkFleetBookkeeping measures the fleet's work around a call with
// no network at all: a lazy lease, taken and released, for one user.
func BenchmarkFleetBookkeeping(b *testing.B) {
	srv := newEmu(b, 5, &sessionstest.Options{Scripted: instant}, "poola")
	f := newFleet(b, srv, 5, []string{"poola"}, nil)
	ctx := context.Background()
	u := fleet.User{Tenant: "t", ID: "bench"}
	lazy := &fleet.AcquireOptions{Lazy: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, err := f.Acquire(ctx, u, lazy)
		if err != nil {
			b.Fatal(err)
		}
		l.Release()
	}
}
