// Embedding otflow in a Go program through cgo (otflow/service.h): start a
// service from YAML, push OTLP/protobuf log requests into its push/app
// receiver from goroutines, wait for every completion, stop. The request
// bytes are encoded by hand here (standard library only); any OTLP encoder
// will do.
//
//	go build -o embedgo .   (CGO_CFLAGS/CGO_LDFLAGS from `pkg-config otflow`)
//	./embedgo OUT.jsonl N
package main

/*
#cgo pkg-config: otflow
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"unsafe"
)

var (
	mu      sync.Mutex
	waiting = map[uintptr]chan error{}
	nextTok uintptr
)

//export goDone
func goDone(token C.uintptr_t, code C.int, permanent C.bool, reason *C.char) {
	mu.Lock()
	ch := waiting[uintptr(token)]
	delete(waiting, uintptr(token))
	mu.Unlock()
	if code != 0 {
		ch <- fmt.Errorf("code %d (permanent %v): %s", int(code), bool(permanent), C.GoString(reason))
		return
	}
	ch <- nil
}

// Protobuf wire helpers for one ExportLogsServiceRequest.
func varint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
func field(b []byte, num int, body []byte) []byte {
	b = varint(b, uint64(num<<3|2))
	b = varint(b, uint64(len(body)))
	return append(b, body...)
}
func request(body string, ts uint64) []byte {
	var rec []byte
	rec = append(rec, 0x09) // time_unix_nano, fixed64
	for i := 0; i < 8; i++ {
		rec = append(rec, byte(ts>>(8*i)))
	}
	rec = append(rec, 0x10, 9)                              // severity_number INFO
	rec = field(rec, 5, field(nil, 1, []byte(body)))        // body: AnyValue.string_value
	return field(nil, 1, field(nil, 2, field(nil, 2, rec))) // resource_logs/scope_logs/log_records
}

// push sends one request and waits for its outcome, retrying on backpressure.
func push(svc *C.otf_embedded_t, data []byte) error {
	recv := C.CString("push/app")
	defer C.free(unsafe.Pointer(recv))
	cdata := C.CBytes(data)
	defer C.free(cdata)
	var errbuf [256]C.char
	for {
		ch := make(chan error, 1)
		mu.Lock()
		nextTok++
		tok := nextTok
		waiting[tok] = ch
		mu.Unlock()
		rc := C.bridge_push(svc, recv, cdata, C.size_t(len(data)), C.uintptr_t(tok), &errbuf[0], 256)
		if rc != 0 {
			mu.Lock()
			delete(waiting, tok)
			mu.Unlock()
			if rc == -11 { // EAGAIN: the receiver's queue is full
				continue
			}
			return fmt.Errorf("push refused: %s", C.GoString(&errbuf[0]))
		}
		err := <-ch
		if err == nil {
			return nil
		}
		if !isRetryable(err) {
			return err
		}
	}
}

func isRetryable(err error) bool {
	return err != nil && !contains(err.Error(), "permanent true")
}
func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: embedgo OUT.jsonl N")
		os.Exit(2)
	}
	n, _ := strconv.Atoi(os.Args[2])
	yaml := fmt.Sprintf("receivers: {push/app: {}}\n"+
		"exporters: {file: {path: %q, format: json, flush_interval: 10ms}}\n"+
		"service:\n  telemetry: {metrics: {level: none}}\n"+
		"  pipelines: {logs: {receivers: [push/app], exporters: [file]}}\n"+
		"runtime: {workers: 2}\n", os.Args[1])
	cy := C.CString(yaml)
	defer C.free(unsafe.Pointer(cy))
	name := C.CString("embedgo.yaml")
	defer C.free(unsafe.Pointer(name))
	var svc *C.otf_embedded_t
	var errbuf [512]C.char
	if C.otf_embedded_start_string(name, cy, C.size_t(len(yaml)), &svc, &errbuf[0], 512) != 0 {
		fmt.Fprintln(os.Stderr, "start:", C.GoString(&errbuf[0]))
		os.Exit(1)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16) // goroutines pushing at once
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := push(svc, request(fmt.Sprintf("go-%d", i), 1700000000000000000+uint64(i))); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		fmt.Fprintln(os.Stderr, err)
		failed++
	}
	if C.otf_embedded_stop(svc) != 0 {
		failed++
	}
	fmt.Printf("pushed %d from goroutines, failed %d, library %s\n", n, failed,
		C.GoString(C.otf_library_version()))
	if failed > 0 {
		os.Exit(1)
	}
}
