# Compiler warnings and hardening, shared by the top Makefile and
# fuzz/afl/Makefile (which builds the same helpers with AFL++), so the
# two builds cannot drift apart. -Werror everywhere: the code builds
# warning-free with gcc and clang.
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 \
	-Wformat-nonliteral -Wmissing-prototypes -Wstrict-prototypes \
	-Wimplicit-fallthrough -Wno-unused-parameter -Wpointer-arith \
	-Wcast-qual -Wundef -Wwrite-strings -Wold-style-definition \
	-Wnull-dereference -Wframe-larger-than=65536
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
	-fstack-clash-protection -fcf-protection -fPIE
HARDEN_LD := -Wl,-z,relro,-z,now -Wl,-z,noexecstack
