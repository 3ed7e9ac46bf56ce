package testpar_test

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/shellpool/shellpool/internal/testpar"
)

const want = 8

func TestMain(m *testing.M) { os.Exit(testpar.Main(m, want)) }

// The -test.parallel flag is raised to want (or left at GOMAXPROCS when
// that is higher), and that many parallel tests really run at once.
func TestParallelIsRaised(t *testing.T) {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(strings.TrimLeft(a, "-"), "test.parallel") {
			t.Skip("-parallel was given: Main leaves it alone")
		}
	}
	f := flag.Lookup("test.parallel")
	n, err := strconv.Atoi(f.Value.String())
	assert.NoError(t, err)
	assert.Equal(t, max(want, runtime.GOMAXPROCS(0)), n)

	var running, peak atomic.Int32
	var all sync.WaitGroup
	all.Add(want)
	gate := make(chan struct{})
	go func() { all.Wait(); close(gate) }()
	t.Run("group", func(t *testing.T) {
		for i := range want {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				r := running.Add(1)
				for {
					p := peak.Load()
					if r <= p || peak.CompareAndSwap(p, r) {
						break
					}
				}
				all.Done()
				select { // every test waits until all have started
				case <-gate:
				case <-time.After(time.Minute):
					t.Error("the parallel tests did not all start")
				}
				running.Add(-1)
			})
		}
	})
	assert.EqualValues(t, want, peak.Load(), "tests run at once")
}
