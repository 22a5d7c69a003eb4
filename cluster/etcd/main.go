// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 for the
// local test cluster. `go install go.etcd.io/etcd/v3` does not work because that
// module carries replace directives, so this wrapper is the build entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
