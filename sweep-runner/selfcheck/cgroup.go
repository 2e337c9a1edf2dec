package selfcheck

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupRoot is where the cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgroupStat is one reading of the CPU controller of the cgroup the
// process is in: its CFS bandwidth counters and its limit.
type cgroupStat struct {
	// version: "v2", "v1", or "" when no cpu.stat could be read.
	version string
	// periods and throttled: nr_periods and nr_throttled; throttledNs the
	// throttled time (v2 throttled_usec, v1 throttled_time), nanoseconds.
	periods, throttled, throttledNs int64
	// limit: quota / period in cores, 0 for none.
	limit float64
}

// readCgroup reads the process's cgroup: /proc/self/cgroup names it,
// and its files are under cgroupRoot.
func readCgroup() cgroupStat {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return cgroupStat{}
	}
	return readCgroupAt(cgroupRoot, self)
}

// readCgroupAt reads the cgroup that self (the contents of
// /proc/<pid>/cgroup) names under the mount root: the unified hierarchy
// when root is one (root/cgroup.controllers exists), else the v1 cpu
// controller's hierarchy. In a container the path self names may not exist
// under the mount (the mount is the container's own cgroup): then the
// mount's root is the cgroup.
func readCgroupAt(root string, self []byte) cgroupStat {
	v2, v1, v1ok := parseProcCgroup(self)
	if exists(filepath.Join(root, "cgroup.controllers")) {
		if v2 == "" {
			return cgroupStat{}
		}
		dir := cgroupDir(root, v2)
		stat, err := os.ReadFile(filepath.Join(dir, "cpu.stat"))
		if err != nil {
			return cgroupStat{}
		}
		c := cgroupStat{version: "v2"}
		f := parseKeyValues(stat)
		c.periods, c.throttled, c.throttledNs = f["nr_periods"], f["nr_throttled"], f["throttled_usec"]*1000
		if max, err := os.ReadFile(filepath.Join(dir, "cpu.max")); err == nil {
			c.limit = parseCPUMax(max)
		}
		return c
	}
	if !v1ok {
		return cgroupStat{}
	}
	for _, mount := range []string{"cpu,cpuacct", "cpu", "cpuacct,cpu"} {
		m := filepath.Join(root, mount)
		if !exists(m) {
			continue
		}
		dir := cgroupDir(m, v1)
		stat, err := os.ReadFile(filepath.Join(dir, "cpu.stat"))
		if err != nil {
			continue
		}
		c := cgroupStat{version: "v1"}
		f := parseKeyValues(stat)
		c.periods, c.throttled, c.throttledNs = f["nr_periods"], f["nr_throttled"], f["throttled_time"]
		quota, err1 := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
		period, err2 := os.ReadFile(filepath.Join(dir, "cpu.cfs_period_us"))
		if err1 == nil && err2 == nil {
			c.limit = parseQuota(quota, period)
		}
		return c
	}
	return cgroupStat{}
}

// cgroupDir is the cgroup path's directory under the mount, or the mount's
// root when it holds no cpu.stat there.
func cgroupDir(mount, path string) string {
	dir := filepath.Join(mount, filepath.FromSlash(path))
	if exists(filepath.Join(dir, "cpu.stat")) {
		return dir
	}
	return mount
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// parseProcCgroup reads /proc/<pid>/cgroup ("hierarchy:controllers:path"
// lines): v2 is the unified hierarchy's path (the "0::" line), v1 the path
// in the v1 hierarchy holding the cpu controller (ok when there is one).
func parseProcCgroup(b []byte) (v2, v1 string, ok bool) {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		id, rest, found := strings.Cut(s.Text(), ":")
		if !found {
			continue
		}
		ctrls, path, found := strings.Cut(rest, ":")
		if !found {
			continue
		}
		if id == "0" && ctrls == "" {
			v2 = path
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if c == "cpu" {
				v1, ok = path, true
			}
		}
	}
	return v2, v1, ok
}

// parseKeyValues reads a flat keyed file ("key value" lines, as cpu.stat);
// lines whose value is not an integer are left out.
func parseKeyValues(b []byte) map[string]int64 {
	m := map[string]int64{}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			m[f[0]] = v
		}
	}
	return m
}

// parseCPUMax reads v2's cpu.max ("$MAX $PERIOD", MAX "max" for none) in
// cores, 0 for none.
func parseCPUMax(b []byte) float64 {
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] == "max" {
		return 0
	}
	return ratio(f[0], f[1])
}

// parseQuota reads v1's cpu.cfs_quota_us and cpu.cfs_period_us in cores,
// 0 for none (quota -1).
func parseQuota(quota, period []byte) float64 {
	return ratio(strings.TrimSpace(string(quota)), strings.TrimSpace(string(period)))
}

func ratio(quota, period string) float64 {
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0
	}
	return q / p
}
