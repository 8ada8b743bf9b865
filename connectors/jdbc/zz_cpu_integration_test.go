//go:build integration

package jdbc

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func procCPU(pid int) time.Duration {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestZZCPU(t *testing.T) {
	db := newDB(t)
	db.exec(t, "CREATE TABLE srv_public_bench "+benchDDL)
	recs0, _ := benchRecords(t, benchRows, 0)
	for _, mode := range []string{"insert", "update"} {
		for _, putSize := range []int{500, 5000} {
			for _, path := range []int{-1, 1 << 30} {
				cfg := dbzConfig()
				cfg[KeyBatchSize] = strconv.Itoa(max(putSize, DebeziumBatchSize))
				task := openTask(t, db, cfg, nil, withPath(path))
				var pid uint32
				task.conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid)
				db.exec(t, "TRUNCATE srv_public_bench")
				if mode == "update" {
					putAll(t, task, recs0, 5000)
				}
				recs, _ := benchRecords(t, benchRows, 1)
				var f *os.File
				if mode == "update" && putSize == 500 && path > 0 {
					f, _ = os.Create("/tmp/put.prof")
					pprof.StartCPUProfile(f)
				}
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				c0, s0, w0 := selfCPU(), procCPU(int(pid)), time.Now()
				putAll(t, task, recs, putSize)
				c1, s1, w1 := selfCPU(), procCPU(int(pid)), time.Now()
				runtime.ReadMemStats(&m1)
				t.Logf("allocs/row %.1f bytes/row %.0f gc %d heap %dMB", float64(m1.Mallocs-m0.Mallocs)/benchRows, float64(m1.TotalAlloc-m0.TotalAlloc)/benchRows, m1.NumGC-m0.NumGC, m1.HeapAlloc>>20)
				if f != nil {
					pprof.StopCPUProfile()
					f.Close()
				}
				t.Logf("%s put=%d path=%d: client %.2f µs/row, server %.2f µs/row, wall %.2f µs/row",
					mode, putSize, path, float64((c1-c0).Nanoseconds())/1000/benchRows, float64((s1-s0).Nanoseconds())/1000/benchRows, float64(w1.Sub(w0).Nanoseconds())/1000/benchRows)
				task.Close(context.Background())
			}
		}
	}
}
