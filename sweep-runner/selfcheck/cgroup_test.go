package selfcheck

import (
	"os"
	"path/filepath"
	"testing"
)

// Contents as the kernel writes them (6.x).
const (
	procCgroupV1 = `12:pids:/kubepods/burstable/pod7f/c0ffee
11:memory:/kubepods/burstable/pod7f/c0ffee
4:cpu,cpuacct:/kubepods/burstable/pod7f/c0ffee
3:cpuset:/kubepods/burstable/pod7f/c0ffee
1:name=systemd:/kubepods/burstable/pod7f/c0ffee
0::/
`
	procCgroupV1Alone = "2:cpuacct:/\n1:cpu:/runner\n0::/\n"
	procCgroupV2      = "0::/system.slice/sweep.service\n"
	cpuStatV1         = "nr_periods 120\nnr_throttled 30\nthrottled_time 1500000000\nnr_bursts 0\nburst_time 0\n"
	cpuStatV2         = "usage_usec 1339170\nuser_usec 820469\nsystem_usec 518701\ncore_sched.force_idle_usec 0\nnr_periods 1234\nnr_throttled 56\nthrottled_usec 789012\nnr_bursts 0\nburst_usec 0\n"
)

func TestParseProcCgroup(t *testing.T) {
	for _, c := range []struct {
		in     string
		v2, v1 string
		ok     bool
	}{
		{procCgroupV1, "/", "/kubepods/burstable/pod7f/c0ffee", true},
		{procCgroupV1Alone, "/", "/runner", true},
		{procCgroupV2, "/system.slice/sweep.service", "", false},
		{"5:cpuacct,cpu:/a\n", "", "/a", true},
		{"3:cpuset:/a\nnot a line\n", "", "", false},
		{"", "", "", false},
	} {
		v2, v1, ok := parseProcCgroup([]byte(c.in))
		if v2 != c.v2 || v1 != c.v1 || ok != c.ok {
			t.Errorf("%q: got %q %q %v, want %q %q %v", c.in, v2, v1, ok, c.v2, c.v1, c.ok)
		}
	}
}

func TestParseCPUStat(t *testing.T) {
	v1 := parseKeyValues([]byte(cpuStatV1))
	if v1["nr_periods"] != 120 || v1["nr_throttled"] != 30 || v1["throttled_time"] != 1500000000 {
		t.Errorf("v1: %v", v1)
	}
	v2 := parseKeyValues([]byte(cpuStatV2))
	if v2["nr_periods"] != 1234 || v2["nr_throttled"] != 56 || v2["throttled_usec"] != 789012 {
		t.Errorf("v2: %v", v2)
	}
	if m := parseKeyValues([]byte("a b\nc 1 2\nd 7\n")); len(m) != 1 || m["d"] != 7 {
		t.Errorf("malformed lines: %v", m)
	}
}

func TestParseLimit(t *testing.T) {
	for _, c := range []struct {
		max  string
		want float64
	}{
		{"max 100000\n", 0},
		{"10000 100000\n", 0.1},
		{"250000 100000\n", 2.5},
		{"", 0},
		{"x 100000", 0},
	} {
		if got := parseCPUMax([]byte(c.max)); got != c.want {
			t.Errorf("cpu.max %q: %g, want %g", c.max, got, c.want)
		}
	}
	for _, c := range []struct {
		quota, period string
		want          float64
	}{
		{"-1\n", "100000\n", 0},
		{"10000\n", "100000\n", 0.1},
		{"150000\n", "100000\n", 1.5},
		{"50000\n", "0\n", 0},
	} {
		if got := parseQuota([]byte(c.quota), []byte(c.period)); got != c.want {
			t.Errorf("quota %q period %q: %g, want %g", c.quota, c.period, got, c.want)
		}
	}
}

// TestReadCgroupAt reads mount trees laid out as the kernel lays them out:
// v2, v1 with cpu,cpuacct joined, and a container whose cgroup path is not
// under its mount (the mount's root is its cgroup).
func TestReadCgroupAt(t *testing.T) {
	write := func(root string, files map[string]string) {
		for p, s := range files {
			p = filepath.Join(root, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		self  string
		want  cgroupStat
	}{
		{"v2", map[string]string{
			"cgroup.controllers":                  "cpuset cpu io memory pids\n",
			"cpu.stat":                            "usage_usec 1\n",
			"system.slice/sweep.service/cpu.stat": cpuStatV2,
			"system.slice/sweep.service/cpu.max":  "50000 100000\n",
		}, procCgroupV2, cgroupStat{version: "v2", periods: 1234, throttled: 56, throttledNs: 789012000, limit: 0.5}},
		{"v2 container", map[string]string{
			"cgroup.controllers": "cpu memory\n",
			"cpu.stat":           cpuStatV2,
			"cpu.max":            "max 100000\n",
		}, "0::/kubepods.slice/pod7f.slice/cri-c0ffee.scope\n", cgroupStat{version: "v2", periods: 1234, throttled: 56, throttledNs: 789012000}},
		{"v1", map[string]string{
			"cpu,cpuacct/cpu.stat":                                          "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
			"cpu,cpuacct/kubepods/burstable/pod7f/c0ffee/cpu.stat":          cpuStatV1,
			"cpu,cpuacct/kubepods/burstable/pod7f/c0ffee/cpu.cfs_quota_us":  "200000\n",
			"cpu,cpuacct/kubepods/burstable/pod7f/c0ffee/cpu.cfs_period_us": "100000\n",
			"memory/memory.max_usage_in_bytes":                              "1\n",
		}, procCgroupV1, cgroupStat{version: "v1", periods: 120, throttled: 30, throttledNs: 1500000000, limit: 2}},
		{"v1 container", map[string]string{
			"cpu/cpu.stat":          cpuStatV1,
			"cpu/cpu.cfs_quota_us":  "-1\n",
			"cpu/cpu.cfs_period_us": "100000\n",
		}, procCgroupV1Alone, cgroupStat{version: "v1", periods: 120, throttled: 30, throttledNs: 1500000000}},
		{"v1 without the cpu controller", map[string]string{
			"cpu/cpu.stat": cpuStatV1,
		}, "3:memory:/a\n0::/\n", cgroupStat{}},
		{"nothing mounted", nil, procCgroupV2, cgroupStat{}},
	} {
		root := t.TempDir()
		write(root, c.files)
		if got := readCgroupAt(root, []byte(c.self)); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
