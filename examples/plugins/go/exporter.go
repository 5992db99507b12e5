// An otflow exporter plugin in Go: `gofiles` writes every request's OTLP
// protobuf bytes to <directory>/<n>.pb on a goroutine and acknowledges the
// message from there (msg_ack_async), so the worker never waits for the
// disk. Build (Debian golang-go, standard library only):
//
//	go build -buildmode=c-shared -o gofiles.so .
//
// The C side (shim.c) holds the factory and the entry points; this file
// does the work. Instances cross into C as cgo.Handle values.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include
#include <stdint.h>
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"unsafe"
)

type exporter struct {
	node *C.otf_node_t
	dir  string
	wg   sync.WaitGroup
}

// Every worker has its own instance; file names are unique process-wide.
var seq uint64

//export goCreate
func goCreate(node *C.otf_node_t, dir *C.char) C.uintptr_t {
	d := C.GoString(dir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		line := C.CString(fmt.Sprintf("gofiles: %v", err))
		C.gofiles_log(node, line)
		C.free(unsafe.Pointer(line))
		return 0
	}
	return C.uintptr_t(cgo.NewHandle(&exporter{node: node, dir: d}))
}

//export goConsume
func goConsume(h C.uintptr_t, msg *C.otf_msg_t, data unsafe.Pointer, size C.int) {
	e := cgo.Handle(h).Value().(*exporter)
	payload := C.GoBytes(data, size) // the message is not touched off the worker
	n := atomic.AddUint64(&seq, 1)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		name := filepath.Join(e.dir, fmt.Sprintf("%06d.pb", n))
		tmp := name + ".tmp"
		err := os.WriteFile(tmp, payload, 0o644)
		if err == nil {
			err = os.Rename(tmp, name)
		}
		if err != nil {
			reason := C.CString(fmt.Sprintf("gofiles: %v", err))
			C.gofiles_nack_async(msg, reason)
			C.free(unsafe.Pointer(reason))
			return
		}
		C.gofiles_ack_async(msg)
	}()
}

//export goShutdown
func goShutdown(h C.uintptr_t) {
	e := cgo.Handle(h).Value().(*exporter)
	e.wg.Wait() // every write done and its outcome posted
	C.gofiles_shutdown_done(e.node)
}

//export goDestroy
func goDestroy(h C.uintptr_t) {
	hd := cgo.Handle(h)
	hd.Value().(*exporter).wg.Wait()
	hd.Delete()
}

func main() {}
