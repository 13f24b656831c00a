# Scenario "fs-migrate": file I/O through files held open across a live migration.
#   FS-MOUNTED tag=<tag> up=<uptime>
#   MIG-READY up=<uptime>                 everything below is open; migrate now
#   MTICK <n> write=<ok|WERR>              every tick until the host creates <dir>/migrated
#   MIG-SEEN after=<n> up=<uptime>         the guest saw the marker (it runs on the destination)
#   MIG <check> ok [detail] | MIG <check> FAIL <detail>   (a background reader re-reads data.bin
#                                          through FUSE all along, dropping the guest's page cache)
#   MIG-DONE pass=<n> fail=<n> up=<uptime>
# Kernel command line: vfs_tag= (myfs), mig_dir= (mig), tick= (0.2), mig_max_ticks= (1500),
# mig_entries= (2000).
# Held open over the switch-over: fd 3 appends to log.txt (opened before), fd 4 reads ro.txt
# (half read before), fd 5 writes ren.txt (renamed to ren2.txt while open), fd 6 reads and
# writes gone.txt (unlinked while open), and a `find` over many/ blocked in the middle of its
# listing (its output pipe is full), so the directory handle is mid-READDIR.
fs_tag=$(arg vfs_tag myfs)
mig_dir=$(arg mig_dir mig)
tick=$(arg tick 0.2)
mig_max_ticks=$(arg mig_max_ticks 1500)
mig_entries=$(arg mig_entries 2000)
mig_pass=0
mig_fail=0
check() {
    _name=$1; shift
    if _out=$("$@" 2>&1); then
        mig_pass=$((mig_pass + 1)); echo "MIG $_name ok${_out:+ $_out}"
    else
        mig_fail=$((mig_fail + 1)); echo "MIG $_name FAIL $(echo "$_out" | tr '\n' ' ')"
    fi
}
same() {  # same WANT GOT
    [ "$1" = "$2" ] || { echo "want [$1] got [$2]"; return 1; }
}

if ! mount_virtiofs "$fs_tag" /mnt; then
    echo "FS-FAIL mount tag=$fs_tag: $(tr '\n' ' ' </tmp/mount.err)"
else
    echo "FS-MOUNTED tag=$fs_tag up=$(uptime_s)"
    D=/mnt/$mig_dir
    rm -rf "$D" && mkdir -p "$D/many" && cd "$D" || echo "MIG setup FAIL cd $D"
    # Long names, so that find's output (> 64 KiB) fills the pipe and find blocks mid-listing.
    _i=0
    while [ $_i -lt "$mig_entries" ]; do
        : >"many/entry-with-a-rather-long-name-to-fill-the-pipe-$_i" || break
        _i=$((_i + 1))
    done
    printf 'line1\nline2\nline3\n' >ro.txt
    exec 3>>log.txt
    echo "before" >&3
    exec 4<ro.txt
    read -r ro_first <&4
    echo "ren-before" >ren.txt
    exec 5>>ren.txt
    mv ren.txt ren2.txt
    echo "gone-before" >gone.txt
    exec 6>>gone.txt
    rm gone.txt
    mkfifo /tmp/listing
    find "$D/many" >/tmp/listing &
    find_pid=$!
    exec 7</tmp/listing
    read -r list_first <&7
    # A reader that keeps the back-end writing guest memory (READ replies, used ring) while RAM
    # migrates: a page written and not dirty-logged would reach the destination stale.
    yes jvhost-reader-pattern | head -c 1048576 >data.bin
    data_sha=$(sha256sum data.bin | cut -d' ' -f1)
    ( _r=0; _bad=0
      while [ ! -e "$D/migrated" ]; do
          echo 1 >/proc/sys/vm/drop_caches
          [ "$(sha256sum "$D/data.bin" | cut -d' ' -f1)" = "$data_sha" ] || _bad=$((_bad + 1))
          _r=$((_r + 1))
      done
      echo "$_r $_bad" >/tmp/reader.out ) &
    reader_pid=$!
    echo "MIG-READY up=$(uptime_s)"

    n=0
    while [ ! -e "$D/migrated" ] && [ $n -lt "$mig_max_ticks" ]; do
        n=$((n + 1))
        if echo "tick $n" >&3; then w=ok; else w=WERR; fi
        echo "MTICK $n write=$w"
        sleep "$tick"
    done
    echo "MIG-SEEN after=$n up=$(uptime_s)"

    wait $reader_pid
    check reader_consistent sh -c 'read -r r bad </tmp/reader.out && echo "reads=$r" && [ "$bad" = 0 ] && [ "$r" -gt 0 ]'
    echo "after" >&3
    check log_append sh -c "tail -n 1 $D/log.txt | grep -qx after && echo lines=\$(wc -l <$D/log.txt)"
    check log_gapfree sh -c "sed -n 's/^tick //p' $D/log.txt | awk 'NR != \$1 { bad = 1 } END { exit bad }'"
    ro_rest=$(cat <&4)
    check read_held same "line1|line2
line3" "$ro_first|$ro_rest"
    echo "ren-after" >&5
    check write_renamed same "ren-before
ren-after" "$(cat ren2.txt)"
    echo "gone-after" >&6
    check unlinked_held same "gone-before
gone-after" "$(cat /proc/self/fd/6)"
    check unlinked_invisible sh -c "[ ! -e $D/gone.txt ]"
    list_rest=$(cat <&7)
    wait $find_pid
    check listing_complete same "$((mig_entries + 1))" "$(printf '%s\n%s\n' "$list_first" "$list_rest" | sort -u | wc -l)"
    check new_file sh -c "echo fresh >$D/fresh.txt && [ \"\$(cat $D/fresh.txt)\" = fresh ]"
    exec 3>&- 4<&- 5>&- 6>&- 7<&-
    cd / && sync
    umount /mnt || echo "MIG umount FAIL"
    echo "MIG-DONE pass=$mig_pass fail=$mig_fail up=$(uptime_s)"
fi
