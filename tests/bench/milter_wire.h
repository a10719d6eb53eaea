/*
 * milter_wire.h -- the milter protocol (version 6) as the test clients speak it
 * without libmilter: command and reply codes, protocol step flags, and what
 * Postfix 3.7 offers in negotiation (doc/mta-facts.md section 3). Shared by the load
 * driver (tests/bench/milterload.c) and the scripted client
 * (tests/faults/miltershot.c).
 * Never: holds code; constants only.
 */
#ifndef MILTER_WIRE_H
#define MILTER_WIRE_H

/* MTA -> milter commands. */
enum {
    C_ABORT = 'A', C_BODY = 'B', C_CONNECT = 'C', C_MACRO = 'D', C_BODYEOB = 'E',
    C_HELO = 'H', C_HEADER = 'L', C_MAIL = 'M', C_EOH = 'N', C_OPTNEG = 'O',
    C_QUIT = 'Q', C_RCPT = 'R', C_DATA = 'T',
};

/* milter -> MTA replies and modification requests. */
enum {
    R_ADDRCPT = '+', R_DELRCPT = '-', R_ADDRCPT_PAR = '2', R_SHUTDOWN = '4',
    R_ACCEPT = 'a', R_REPLBODY = 'b', R_CONTINUE = 'c', R_DISCARD = 'd',
    R_CHGFROM = 'e', R_CONN_FAIL = 'f', R_ADDHEADER = 'h', R_INSHEADER = 'i',
    R_SETSYMLIST = 'l', R_CHGHEADER = 'm', R_PROGRESS = 'p', R_QUARANTINE = 'q',
    R_REJECT = 'r', R_SKIP = 's', R_TEMPFAIL = 't', R_REPLYCODE = 'y',
};

/* Protocol step flags: a step the milter declined is not sent, a reply it
 * declined is not awaited. */
#define P_NOCONNECT 0x1u
#define P_NOHELO    0x2u
#define P_NOMAIL    0x4u
#define P_NORCPT    0x8u
#define P_NOBODY    0x10u
#define P_NOHDRS    0x20u
#define P_NOEOH     0x40u
#define P_NR_HDR    0x80u
#define P_NODATA    0x200u
#define P_SKIP      0x400u
#define P_NR_CONN   0x1000u
#define P_NR_HELO   0x2000u
#define P_NR_MAIL   0x4000u
#define P_NR_RCPT   0x8000u
#define P_NR_DATA   0x10000u
#define P_NR_EOH    0x40000u
#define P_NR_BODY   0x80000u
#define P_LEADSPC   0x100000u

/* What Postfix 3.7 offers (doc/mta-facts.md section 3). */
#define OFFER_VERSION  6u
#define OFFER_ACTIONS  0x1ffu
#define OFFER_PROTOCOL 0x1fffffu

#define MAX_PACKET     (1u << 24)   /* refuse absurd replies instead of allocating them */

#endif
