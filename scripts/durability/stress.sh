#!/bin/bash
# Durability stress (issue: nothing lost at stop, idle shutdown, SIGTERM). Usage, as root:
#   unshare -fp --mount-proc bash -c "python3 serve.py PORT & sleep 2; ./stress.sh MODE N DL BROWSE_BIN PORT"
# MODE: stop, sigterm or idle; DL=1 also starts a 2 s download just before the exit. Each run
# writes a cookie, localStorage, IndexedDB and Cache Storage, makes the daemon exit, starts a
# fresh one and reads them back. Run it next to a CPU hog; failures keep the daemon log in $OUT.
MODE=$1; N=$2; DL=$3; B=$4; PORT=$5
OUT=${OUT:-$(mktemp -d /tmp/browse-durability.XXXXXX)}
export BROWSE_WATCH_INTERVAL=200 BROWSE_HEARTBEAT_INTERVAL=200 BROWSE_START_TIMEOUT=60000
unset BROWSE_STATE_FILE BROWSE_TAB
fails=0
for i in $(seq 1 $N); do
  ws=$(mktemp -d $OUT/ws.XXXXXX); mkdir $ws/.git; cd $ws
  if [ $MODE = idle ]; then export BROWSE_IDLE_TIMEOUT=1500; else export BROWSE_IDLE_TIMEOUT=1800000; fi
  v="v$i$RANDOM"
  $B goto "http://127.0.0.1:$PORT/set.html?v=$v&dl=$DL" >/dev/null || echo "run $i: goto failed"
  r=$($B js "window.allDone" 2>&1); case "$r" in "done $v"*) true;; *) false;; esac || echo "run $i: set said $r"
  [ $DL = 1 ] && for k in $(seq 100); do ls .gstack/downloads 2>/dev/null | grep -q . && break; sleep 0.02; done
  t0=$(date +%s.%N)
  case $MODE in
    stop) $B stop >/dev/null 2>$OUT/stop.err || { echo "run $i: stop failed: $(cat $OUT/stop.err)"; } ;;
    sigterm) pid=$(python3 -c 'import json;print(json.load(open(".gstack/browse.json"))["pid"])'); kill -TERM $pid
             while kill -0 $pid 2>/dev/null; do sleep 0.02; done ;;
    idle) while [ -e .gstack/browse.json ]; do sleep 0.02; done ;;
  esac
  while pgrep -f "user-data-dir=$ws" >/dev/null; do sleep 0.02; done
  t1=$(date +%s.%N)
  export BROWSE_IDLE_TIMEOUT=1800000
  $B goto "http://127.0.0.1:$PORT/read.html" >/dev/null
  got=$($B js "window.readAll" 2>&1)
  want="{\"cookie\":\"kept=$v\",\"ls\":\"$v\",\"idb\":\"$v\",\"cache\":\"$v\"}"
  dl=ok
  if [ $DL = 1 ]; then sz=$(stat -c %s .gstack/downloads/slow.bin 2>/dev/null || echo missing); [ "$sz" = 4096000 ] || dl="download:$sz:$(ls .gstack/downloads | tr '\n' ' ')"; fi
  close=$(grep -o 'close_ms=[0-9]*\|did not exit within.*\|killing.*' .gstack/browse-daemon.log | head -1)
  if [ "$got" != "$want" ] || [ $dl != ok ]; then fails=$((fails+1)); echo "run $i FAIL ($MODE) got=$got $dl [$close] load=$(cut -d' ' -f1 /proc/loadavg)"; cp .gstack/browse-daemon.log $OUT/fail-$MODE-$i.log
  else echo "run $i ok shutdown=$(echo "$t1 - $t0" | bc)s [$close] load=$(cut -d' ' -f1 /proc/loadavg)"; fi
  $B stop >/dev/null 2>&1
  cd "$OUT"; rm -rf "$ws"
done
echo "MODE=$MODE DL=$DL fails=$fails/$N"
