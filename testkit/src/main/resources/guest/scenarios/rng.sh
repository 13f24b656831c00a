# Scenario "rng": reads rng_bytes (default 1 MiB) from /dev/hwrng and reports
#   RNG-CURRENT <contents of /sys/class/misc/hw_random/rng_current>
#   RNG-OK bytes=<count> sha=<sha256 hex> up=<uptime>   or   RNG-FAIL <reason>
# Kernel command line: rng_bytes=N (default 1048576), rng_bs=N dd block size (default 4096).
rng_bytes=$(arg rng_bytes 1048576)
rng_bs=$(arg rng_bs 4096)
rng_current=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null || echo "<none>")
echo "RNG-CURRENT $rng_current"
echo "RNG-AVAILABLE $(cat /sys/class/misc/hw_random/rng_available 2>/dev/null)"
if [ ! -c /dev/hwrng ]; then
    echo "RNG-FAIL no /dev/hwrng"
elif [ "$rng_current" = none ] || [ "$rng_current" = "<none>" ]; then
    echo "RNG-FAIL no hwrng device bound (rng_current=$rng_current)"
elif ! dd if=/dev/hwrng of=/tmp/rng.bin bs="$rng_bs" count="$rng_bytes" \
        iflag=count_bytes,fullblock 2>/tmp/dd.err; then
    echo "RNG-FAIL dd: $(tr '\n' ' ' </tmp/dd.err)"
else
    rng_got=$(wc -c </tmp/rng.bin | tr -d ' ')
    rng_sha=$(sha256sum /tmp/rng.bin | cut -d' ' -f1)
    if [ "$rng_got" = "$rng_bytes" ]; then
        echo "RNG-OK bytes=$rng_got sha=$rng_sha up=$(uptime_s)"
    else
        echo "RNG-FAIL short read: bytes=$rng_got wanted=$rng_bytes sha=$rng_sha"
    fi
    rm -f /tmp/rng.bin
fi
