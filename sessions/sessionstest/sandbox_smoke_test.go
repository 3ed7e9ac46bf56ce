package sessionstest

import "testing"

func TestSandboxSmoke(t *testing.T) {
	s := setup(t, nil)
	t.Log(s.IsolationStatus())
	c := newRaw(t, s)
	sid := newSID()
	m := c.sh(sid, "id; pwd; echo $HOME; ls /; ps aux; ls /home /root; cat /proc/1/cmdline; df -h /mnt/data; echo hi > /etc/x && ls -la /etc/x; ip addr 2>&1 | head -5; hostname")
	t.Log(stdout(m), stderr(m), m["status"])
}
