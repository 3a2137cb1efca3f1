/*
 * ring_close_mp.pml - ak_ring's close racing two multi-producer pushers
 * (ak_ring_push_wait_mpsc) on a ring of capacity 1, with a consumer that
 * drains with pop_wait (and may sleep).  The MP side of ring_close.pml:
 * the entry check of `closed`, the seq_cst head CAS as the reservation, a
 * refused reservation that leaves the head where it is, and in-order
 * publication behind earlier reservations.
 *
 * Protocol (include/atomkit/ring.h, src/ring.c, src/ring_wait.c).
 *   push (MP):  if (closed != OPEN) (relaxed) _ak_ring_refuse(): wait for
 *                   SEALED; AK_ECLOSED
 *               h = head; room from cons.tail (acquire); full: head moved
 *                   since h? retry; closed != OPEN: refuse as above; else
 *                   AK_EFULL (push_wait retries)
 *               CAS head h -> h + 1 (seq_cst; on failure h = head, again)
 *               g = gate (seq_cst load)
 *               if (g has CLOSED) _ak_ring_closed_check(): wait for SEALED;
 *                   close_pos < h + 1: AK_ECLOSED (head stays: slots past
 *                   close_pos are never published nor read)
 *               wait until tail == h (earlier reservations publish first)
 *               tail = h + 1 (release)
 *               if (g has waiters) wake(data)
 *   pop_wait, wake, close: as in ring_close.pml.
 *
 * Memory model.  Sequentially consistent, except where ring_close.pml
 * needs the store buffer: an MP producer's reservation is a locked RMW and
 * its gate read a seq_cst load, so nothing of that handshake waits in a
 * buffer; its tail store is modelled as immediate (it takes part in no
 * store->load pair: the closer reads the head, and the producer's next
 * loads after it are its own entry checks).  So close's membarrier is not
 * what this model relies on (the seq_cst CAS is).  A full ring's retry
 * waits for what it polls (cons.tail, head, `closed`) to change.  The
 * consumer reads `closed` and close_pos in one step: close_pos is written
 * once, before SEALED, and used only when SEALED was read, so the value
 * is the same either way (fewer states).  No futex wait ends by itself
 * here (ring_close.pml has that race).
 *
 * Proves, with the close at any point: every push that returned AK_OK is
 * received and nothing else is (got == ok, the consumer stopping only at
 * AK_ECLOSED); close_pos == ok (no reservation below close_pos is refused,
 * none at or above it accepted); once a producer got AK_ECLOSED, each of
 * its later pushes does too; no one blocked for ever (a refused
 * reservation never stalls a publication below it; no sleeper is left);
 * the counts return to 0.  2 producers x 2 push_wait calls; -DBIG: x 3.
 *
 * broken: assertion violated
 * broken-bound: assertion violated
 * The broken variant reads the gate before its reservation CAS: it sees
 * no CLOSED, the closer then sets the bit and reads the head before the
 * CAS, and the push publishes with AK_OK past close_pos (the consumer
 * takes it and close_pos is one short, or stops at close_pos first and
 * loses it).  The second (-DBROKEN_BOUND) keeps a reservation that starts
 * at close_pos (the comparison in _ak_ring_closed_check() off by one): an
 * AK_OK push the closer did not count.
 */
#ifdef BIG
#define PUSHES 2
#define PUSHES2 2
#else
#define PUSHES 2
#define PUSHES2 1
#endif
#define CAP 1

#define OPEN 0
#define CLOSING 1
#define SEALED 2

byte head = 0, tail = 0;     /* prod.head, prod.tail */
byte ctail = 0;              /* cons.tail */
byte waiters = 0;            /* the WAITER count in prod.gate */
bool gclosed = false;        /* the CLOSED bit in prod.gate */
byte closed = OPEN, close_pos = 0;
byte sleepers = 0, seq = 0;  /* data_sleepers, data_seq */
bool asleep = false;
byte early = 0;              /* no wait ends by itself here (ring_close.pml has it) */
byte ok = 0, got = 0;
byte pdone = 0;
bool cdone = false, kdone = false;

inline wake_rest()
{
	sl = sleepers;                     /* seq_cst load */
	if
	:: sl > 0 ->
		atomic { j = (asleep -> 1 : 0); asleep = false };
		atomic { sleepers = sleepers - j; waiters = waiters - j; j = 0 }
	:: else -> skip
	fi;
	sl = 0
}

proctype producer(byte n)
{
	byte i = 0, h, c, res, gw, sl, j;
	bool gc, refused = false;
	do
	:: i == n -> break
	:: else ->
		res = 0;
		if
		:: closed != OPEN ->                    /* entry check, relaxed */
			closed == SEALED;               /* _ak_ring_refuse() */
			res = 2
		:: else ->
			h = head;
			do
			:: c = ctail;                   /* acquire */
				if
				:: h >= c && h - c < CAP -> /* room */
					if
					:: atomic { head == h -> head = h + 1; break }  /* seq_cst CAS */
					:: atomic { head != h -> h = head }             /* failed: reload */
					fi
				:: else ->                  /* full (or h stale) */
					if
					:: head != h -> h = head        /* moved: again */
					:: else ->
						if
						:: closed != OPEN ->
							closed == SEALED;  /* refuse */
							res = 2;
							break
						:: else ->
							/* AK_EFULL: retried once something moved */
							(ctail != c || head != h || closed != OPEN);
							h = head
						fi
					fi
				fi
			od;
			if
			:: res == 0 ->
				atomic { gw = waiters; gc = gclosed };  /* seq_cst load */
				if
				:: gc ->
					closed == SEALED;       /* _ak_ring_closed_check() */
#ifndef BROKEN_BOUND
					if
					:: close_pos < h + 1 -> res = 2
#else
					if
					:: close_pos < h -> res = 2
#endif
					:: else -> skip
					fi
				:: else -> skip
				fi;
				if
				:: res == 0 ->
					tail == h;              /* earlier reservations first */
					tail = h + 1;           /* release: published */
					assert(!refused);
					ok++;
					res = 1;
					if
					:: gw > 0 -> seq++; wake_rest()   /* seq_cst RMW */
					:: else -> skip
					fi
				:: else -> skip
				fi;
				gw = 0; gc = false
			:: else -> skip
			fi
		fi;
		if
		:: res == 2 -> refused = true
		:: else -> skip
		fi;
		i++; h = 0; c = 0
	od;
	pdone++
}

#ifdef BROKEN
/* the gate read moved before the CAS */
proctype bproducer(byte n)
{
	byte i = 0, h, c, res, gw, sl, j;
	bool gc, refused = false;
	do
	:: i == n -> break
	:: else ->
		res = 0;
		if
		:: closed != OPEN -> closed == SEALED; res = 2
		:: else ->
			h = head;
			atomic { gw = waiters; gc = gclosed };  /* too early */
			do
			:: c = ctail;
				if
				:: h >= c && h - c < CAP ->
					if
					:: atomic { head == h -> head = h + 1; break }
					:: atomic { head != h -> h = head }
					fi
				:: else ->
					if
					:: head != h -> h = head
					:: else ->
						if
						:: closed != OPEN -> closed == SEALED; res = 2; break
						:: else -> (ctail != c || head != h || closed != OPEN); h = head
						fi
					fi
				fi
			od;
			if
			:: res == 0 ->
				if
				:: gc -> closed == SEALED;
					if
					:: close_pos < h + 1 -> res = 2
					:: else -> skip
					fi
				:: else -> skip
				fi;
				if
				:: res == 0 ->
					tail == h; tail = h + 1;
					assert(!refused);
					ok++; res = 1;
					if
					:: gw > 0 -> seq++; wake_rest()
					:: else -> skip
					fi
				:: else -> skip
				fi;
				gw = 0; gc = false
			:: else -> skip
			fi
		fi;
		if
		:: res == 2 -> refused = true
		:: else -> skip
		fi;
		i++; h = 0; c = 0
	od;
	pdone++
}
#endif

active proctype closer()
{
	byte cp, sl, j;
	atomic { closed == OPEN -> closed = CLOSING };
	gclosed = true;                 /* seq_cst RMW on the gate */
	skip;                           /* membarrier(): no buffers here */
	cp = head;                      /* seq_cst */
	close_pos = cp;
	closed = SEALED;                /* seq_cst store */
	cp = 0;
	if
	:: waiters > 0 -> seq++; wake_rest()
	:: else -> skip
	fi;
	kdone = true
}

active proctype consumer()
{
	byte mine = 0, s, tl, hd, c, cp;
	bool inq;
	do
	:: tl = tail;                                   /* acquire */
		if
		:: tl > mine -> mine++; got++; ctail = mine   /* pop */
		:: else ->
			atomic { c = closed; cp = close_pos };  /* one step: see the header */
			if
			:: c == SEALED && cp <= mine -> break   /* AK_ECLOSED */
			:: else ->
				s = seq;
				waiters++;              /* seq_cst RMW registration */
				atomic { c = closed; cp = close_pos };
				tl = tail;
				hd = head;
				if
				:: c == CLOSING || (c == SEALED && cp <= mine) || tl > mine ->
					waiters--
				:: !(c == CLOSING || (c == SEALED && cp <= mine) || tl > mine) && hd != tl ->
					waiters--       /* in flight: poll */
				:: !(c == CLOSING || (c == SEALED && cp <= mine) || tl > mine) && hd == tl ->
					sleepers++;
					atomic {
						if
						:: seq == s -> asleep = true; inq = true
						:: else -> inq = false
						fi
					};
					if
					:: atomic { !asleep -> skip }
					:: atomic { asleep && early > 0 -> asleep = false; early--; inq = false }
					fi;
					atomic {
						if
						:: !inq -> sleepers--; waiters--
						:: else -> skip
						fi;
						inq = false
					}
				fi
			fi
		fi;
		s = 0; tl = 0; hd = 0; c = 0; cp = 0
	od;
	cdone = true
}

init
{
	atomic {
#ifdef BROKEN
		run bproducer(PUSHES);
#else
		run producer(PUSHES);
#endif
		run producer(PUSHES2)
	}
}

active proctype balance()
{
	pdone == 2 && cdone && kdone;
	assert(got == ok);
	assert(close_pos == ok);
	assert(waiters == 0 && sleepers == 0)
}
