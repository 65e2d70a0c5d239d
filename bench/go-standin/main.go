// A stand-in for the Go implementation of the delayed queue (go-delayed), for the benchmark only: its commands as
// docs/protocol.md describes them, through the same client library (redigo) and MessagePack library (vmihailenco),
// under Go's runtime. The Go implementation itself cannot be fetched on the project's machine; this program is
// written from the protocol's description, not from its code, so its figures are those of a Go client doing that
// work, not of go-delayed's exact code.
//
//	enqueue: RPUSH N <task>, RPUSH N_noti 1, written back to back and flushed together (no MULTI), one pooled
//	         connection per call, the task encoded afresh for every call ([path, bin(msgpack(args))]).
//	drain:   per task BLPOP N_noti <timeout>, then the dequeue script (LPOP N, HSET N_processing <id>), then the
//	         task decoded and its handler called by reflection with its arguments decoded to the parameters' types;
//	         no release (the Go worker never releases).
//
// Protocol with the benchmark: after connecting and loading the script it prints "ready"; it starts when a line
// arrives on stdin; it prints "<tasks> <first> <last> <cpu> <user>" (Unix nanoseconds of the first command sent and of
// the last task done; microseconds of CPU the process spent meanwhile, user and system, and user alone) and exits. A drain ends when BLPOP times out (after its last task, so the wait is not measured).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"reflect"
	"syscall"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/vmihailenco/msgpack/v5"
)

// The dequeue step of the protocol (section Claim, the peers' script): pop the head of the list and record it under
// the worker's id. Written from that description.
const dequeueSource = `local task = redis.call('LPOP', KEYS[1])
if task then
  redis.call('HSET', KEYS[2], ARGV[1], task)
end
return task`

// The outer array of a Go-shaped task: the function's path and its arguments, themselves MessagePack.
type goTask struct {
	_msgpack struct{} `msgpack:",as_array"`
	Path     string
	Payload  []byte
}

// The benchmark's handler: as cheap as the module's no-op handler.
func noop(a int, b string) {}

var handlers = map[string]reflect.Value{"main.Noop": reflect.ValueOf(noop)}

func main() {
	mode := flag.String("mode", "drain", "enqueue or drain")
	addr := flag.String("addr", "127.0.0.1:6379", "Redis address")
	queue := flag.String("queue", "bench", "queue name")
	count := flag.Int("count", 20000, "tasks to enqueue")
	id := flag.String("id", "go-standin", "worker id (drain)")
	flag.Parse()

	pool := &redis.Pool{MaxIdle: 4, Dial: func() (redis.Conn, error) { return redis.Dial("tcp", *addr) }}
	defer pool.Close()
	script := redis.NewScript(2, dequeueSource)
	conn := pool.Get()
	if _, err := conn.Do("SET", *id, 1, "EX", 60, "NX"); err != nil {
		fail(err)
	}
	if err := script.Load(conn); err != nil {
		fail(err)
	}
	conn.Close()

	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fail(err)
	}
	var done int
	var first, last time.Time
	cpu, user := cpuMicroseconds()
	if *mode == "enqueue" {
		first = time.Now()
		for done = 0; done < *count; done++ {
			if err := enqueue(pool, *queue, "main.Noop", 1, "two"); err != nil {
				fail(err)
			}
		}
		last = time.Now()
	} else {
		first = time.Now()
		last = first
		for {
			ran, err := dequeueAndRun(pool, script, *queue, *id)
			if err != nil {
				fail(err)
			}
			if !ran {
				break
			}
			done++
			last = time.Now()
		}
	}
	cpuNow, userNow := cpuMicroseconds()
	fmt.Printf("%d %d %d %d %d\n", done, first.UnixNano(), last.UnixNano(), cpuNow-cpu, userNow-user)
}

// The CPU time this process has spent so far, user and system, and user alone, in microseconds.
func cpuMicroseconds() (int64, int64) {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		fail(err)
	}
	return usage.Utime.Nano()/1000 + usage.Stime.Nano()/1000, usage.Utime.Nano() / 1000
}

func enqueue(pool *redis.Pool, queue string, path string, args ...interface{}) error {
	payload, err := msgpack.Marshal(args)
	if err != nil {
		return err
	}
	data, err := msgpack.Marshal(&goTask{Path: path, Payload: payload})
	if err != nil {
		return err
	}
	conn := pool.Get()
	defer conn.Close()
	conn.Send("RPUSH", queue, data)
	conn.Send("RPUSH", queue+"_noti", 1)
	if err := conn.Flush(); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		if _, err := conn.Receive(); err != nil {
			return err
		}
	}
	return nil
}

// One task: wait for a token, pop and record the task, decode it and call its handler. False when the wait timed out.
func dequeueAndRun(pool *redis.Pool, script *redis.Script, queue string, id string) (bool, error) {
	conn := pool.Get()
	_, err := redis.Values(conn.Do("BLPOP", queue+"_noti", 1))
	if err == redis.ErrNil {
		conn.Close()
		return false, nil
	}
	if err != nil {
		conn.Close()
		return false, err
	}
	data, err := redis.Bytes(script.Do(conn, queue, queue+"_processing", id))
	conn.Close()
	if err != nil {
		return false, err
	}
	var task goTask
	if err := msgpack.Unmarshal(data, &task); err != nil {
		return false, err
	}
	handler, ok := handlers[task.Path]
	if !ok {
		return false, fmt.Errorf("no handler for %q", task.Path)
	}
	arguments, err := bind(handler.Type(), task.Payload)
	if err != nil {
		return false, err
	}
	handler.Call(arguments)
	return true, nil
}

// The payload's array, element i decoded as parameter i's type.
func bind(function reflect.Type, payload []byte) ([]reflect.Value, error) {
	decoder := msgpack.NewDecoder(bytes.NewReader(payload))
	n, err := decoder.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	arguments := make([]reflect.Value, function.NumIn())
	for i := range arguments {
		value := reflect.New(function.In(i))
		if i < n {
			if err := decoder.DecodeValue(value.Elem()); err != nil {
				return nil, err
			}
		}
		arguments[i] = value.Elem()
	}
	return arguments, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
