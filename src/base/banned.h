/*
 * banned.h: functions we never call, because a safer one exists.
 * Not included by the code (it would clash with system headers); "make lint"
 * greps the tree for these names instead.
 */
#ifndef FJORD_BASE_BANNED_H
#define FJORD_BASE_BANNED_H

#define BANNED(f) sorry_##f##_is_banned
#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)

#endif
