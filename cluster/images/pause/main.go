// Holds a pod's namespaces open: waits for SIGINT or SIGTERM and exits 0, and as
// the pod's PID 1 (when the pod shares its process namespace) reaps orphans.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func reapChildren() {
	for {
		pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reapChildren()
			continue
		}
		os.Exit(0)
	}
}
