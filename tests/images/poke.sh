# Byte patches for test images, in plain bash (no interpreter start-up
# per patch). Source it after functions.sh.
#   poke FILE OFFSET WIDTH VALUE [be]   write VALUE as a WIDTH-byte
#                                       little- (default) or big-endian
#                                       integer at OFFSET
#   poke_hex FILE OFFSET HEX            write the bytes HEX at OFFSET
#   poke_str FILE OFFSET STRING         write STRING's bytes at OFFSET
# Values are bash arithmetic (64-bit, so 0xffffffffffffffff works).
poke() {
	local file=$1 off=$(($2)) width=$3 value=$(($4)) order=${5:-le}
	local hex bytes="" i b
	hex=$(printf "%0$((width * 2))x" "$value")
	hex=${hex: -$((width * 2))}
	for ((i = 0; i < width; i++)); do
		b=${hex:$((i * 2)):2}
		if [ "$order" = be ]; then bytes="$bytes\\x$b"; else bytes="\\x$b$bytes"; fi
	done
	printf "$bytes" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}
poke_hex() {
	local bytes
	bytes=$(printf '%s' "$3" | sed 's/../\\x&/g')
	printf "$bytes" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}
poke_str() {
	printf '%s' "$3" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}
