/*
 * cow_epoch.pml - the copy-on-write pointer's grace periods and
 * reclamation (include/atomkit/cow.h, src/cow.c): a snapshot is never freed
 * while a reader that loaded it is still inside its read section.
 *
 * Protocol (names as in the C code).
 *   reader   ak_cow_read_begin: g = gp (acquire); ctr = g (release store);
 *            compiler barrier, or _ak_fence_seq_cst on the fenced path;
 *            p = cur (acquire).  Use *p.  ak_cow_read_end: ctr = 0 (release).
 *            ak_cow_reader_open pushes the record on the registry first.
 *   update   record_get (its own record, pushed on the registry the first
 *            time); clone inside a read section; CAS cur old -> new; leave
 *            the section; retire(old): push on `incoming`; then, if the
 *            `reclaiming` try-lock is free, reclaim(force = 0).
 *   reclaim  if a batch is pending: readers_clear(pending_gp), freeing it
 *            if clear (force: wait until clear), else give up for now; then
 *            if incoming_n >= BATCH (or force): take `incoming`, gp_start()
 *            (gp++, then membarrier(), or on the fenced path a seq_cst
 *            fence), and check once more.
 *            readers_clear(G) walks the registry from the head it read and
 *            wants every record's ctr to be 0 or >= G.
 *   synchronize = reclaim(force = 1) under the try-lock (spinning for it).
 *
 * Memory model.  Spin runs a sequentially consistent machine.  The one
 * reordering this scheme exists for is modelled explicitly: a thread's
 * announcement `ctr = g` goes into its store buffer and reaches memory at
 * a moment of Spin's choosing (commit()), so it can still be invisible
 * when the thread's later load of `cur` executes.  A fence or a locked
 * instruction (the updater's CAS on cur) commits it first.
 * What the model assumes about membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED):
 * before it returns, every other thread of the process has executed a full
 * barrier at some point after the call started (an IPI to a running
 * thread, or the context switch of one that is not running).  A full
 * barrier empties that thread's store buffer, so the call is modelled as
 * one atomic "empty the buffer" step per thread, in turn, with the other
 * threads free to run between the steps (and after their own step, with
 * new stores buffered again).  On the fenced path (no membarrier) the
 * reader waits for its own buffer to empty after the announcement, and
 * the reclaimer needs nothing more (its gp++ is a locked RMW).  Which path
 * runs is chosen once at the start, as ak_cow_init() does; Spin explores
 * both.  Release/acquire pairs are not weakened here: ThreadSanitizer
 * checks them in tests/stress/cow.c, and tests/litmus/cow_publish.c checks
 * the publication pairing on the hardware.
 *
 * Proves: for every interleaving, store-buffer timing and membarrier
 * timing: (1) no reader and no updater's clone ever uses a snapshot that
 * has been freed (asserted at the last use, just before read_end);
 * (2) ak_cow_synchronize frees every snapshot retired before it, and no
 * snapshot is ever freed that was not replaced (or freed twice); (3) nothing blocks for ever (Spin's invalid
 * end state check: synchronize's wait always ends).
 * Bounds: 2 readers x 1 section, 1 updater x 2 updates, BATCH 2 (the
 * first retirement waits for company, the second starts a grace period
 * whose batch may be carried over to synchronize), both read paths.
 * -DBIG: 2 updaters x 1 update (CAS conflicts, the try-lock, one
 * updater's clone section scanned by the other's grace period), 1 reader.
 * The announcement's store buffer holds one entry: a thread's next store
 * to ctr (read_end's 0) waits until it has landed, and read_end's store
 * is not delayed further.  Delaying a 0 only keeps the reclaimer waiting
 * longer, so this hides no bug; the delay that matters, the announcement
 * behind the load of cur, is explored in full.
 *
 * broken: assertion violated
 * The broken variant skips the registry scan (readers_clear answers
 * "clear" at once): a batch is freed as soon as its grace period starts,
 * under a reader that loaded the old pointer.
 *
 * broken-nomb: assertion violated
 * The second broken variant (-DBROKEN_NOMB) drops the membarrier call, so
 * the read side's compiler barrier is all there is: a reader's
 * announcement sits in its store buffer, the scan reads ctr == 0, frees
 * the batch, and the reader's earlier load of cur got the old snapshot.
 */
#ifdef BIG
#define NUP 2                /* updaters */
#define NU 1                 /* update per updater */
#define NR 1                 /* readers */
#else
#define NUP 1
#define NU 2
#define NR 2
#endif
#define NS 1                 /* read sections per reader */
#define BATCH 2
#define NREC (NR + NUP)      /* records: readers 0..NR-1, then updaters */
#define NOBJ (1 + NUP * NU)  /* snapshot 0 is the initial one */

bool fence;                  /* the fenced path (no membarrier) */
byte gp = 1;
byte cur = 0;
byte nextobj = 1;            /* allocation of fresh snapshot ids */
bool freed[NOBJ];
byte retired = 0;            /* ghost: bit set of replaced snapshots */
byte incoming = 0;           /* bit set of retired snapshots, no grace period yet */
byte incoming_n = 0;
bool reclaiming = false;
byte pending = 0;            /* under `reclaiming` */
byte pending_gp = 0;

byte ctr[NREC];              /* in memory */
bool sbn[NREC];              /* the thread's store buffer holds its announcement */
byte sbv[NREC];
byte reg[NREC];              /* the registry, in push order */
byte nreg = 0;

/* The buffered announcement reaches memory: on its own at any moment, or
 * because the thread runs a fence or a locked instruction. */
inline commit(me)
{
	atomic { if :: sbn[me] -> ctr[me] = sbv[me]; sbn[me] = false :: else -> skip fi }
}

/* ak_cow_reader_open / record_get: push on the registry (a locked CAS) */
inline register(me)
{
	atomic { reg[nreg] = me; nreg++ }
}

inline read_begin(me, p)
{
	g = gp;                      /* acquire load of gp */
	atomic { sbv[me] = g; sbn[me] = true };   /* ctr = g (release store) */
	if
	:: fence -> commit(me)       /* _ak_fence_seq_cst(&ctr) */
	:: !fence                    /* compiler barrier: the store may stay buffered */
	:: !fence -> commit(me)
	fi;
	g = 0;
	p = cur                      /* acquire load of cur */
}

inline read_end(me, p)
{
	if
	:: commit(me)                /* the announcement lands during the section */
	:: skip
	fi;
	assert(!freed[p]);           /* the last use of *p */
	commit(me);
	ctr[me] = 0                  /* release store (see Memory model) */
}

/* readers_clear(g, wait) -> clear */
inline readers_clear(g, wait)
{
#ifdef BROKEN
	clear = true
#else
	atomic { n = nreg; i = 0; clear = true };   /* acquire load of the registry head */
	do
	:: i < n ->
		/* one acquire load of the record's ctr (reg[i] is fixed once pushed) */
		if
		:: wait -> atomic { (ctr[reg[i]] == 0 || ctr[reg[i]] >= g) -> i++ }
		:: else ->
			if
			:: atomic { ctr[reg[i]] != 0 && ctr[reg[i]] < g -> clear = false }; break
			:: else -> i++
			fi
		fi
	:: else -> break
	od;
	n = 0; i = 0
#endif
}

inline free_set(set)
{
	d_step {
		for (i : 0 .. NOBJ - 1) {
			if
			:: set & (1 << i) -> assert(!freed[i]); freed[i] = true
			:: else -> skip
			fi
		}
		i = 0
	}
}

inline gp_start(me)
{
	atomic { gp++; pending_gp = gp }   /* acq_rel fetch_add */
	if
	:: fence                           /* _ak_fence_seq_cst(&gp) */
	:: else ->
#ifndef BROKEN_NOMB
		/* membarrier(): a full barrier on every thread, one at a time */
		for (r : 0 .. NREC - 1) { commit(r) }
#endif
		skip
	fi
}

/* reclaim(force); the caller holds `reclaiming` */
inline reclaim(me, force)
{
	do
	:: true ->
		if
		:: pending != 0 ->
			readers_clear(pending_gp, force);
			if
			:: !clear -> break
			:: else -> free_set(pending); pending = 0
			fi
		:: else -> skip
		fi;
		if
		:: !force && incoming_n < BATCH -> break
		:: else -> skip
		fi;
		atomic { k = incoming; incoming = 0 }   /* acquire exchange */
		if
		:: k == 0 -> break
		:: else -> skip
		fi;
		d_step {
			for (i : 0 .. NOBJ - 1) {
				if
				:: k & (1 << i) -> incoming_n--
				:: else -> skip
				fi
			}
			i = 0;
			pending = k;
			k = 0
		}
		gp_start(me);
		readers_clear(pending_gp, force);
		if
		:: clear -> free_set(pending); pending = 0
		:: else -> skip
		fi;
		break
	od
}

proctype reader(byte me)
{
	byte s = 0, p, g;
	register(me);
	do
	:: s == NS -> break
	:: else ->
		read_begin(me, p);
		read_end(me, p);
		s++
	od
}

proctype updater(byte me)
{
	byte u = 0, old, nw, k, n, i, r, g, before;
	bool clear, won;
	register(me);
	atomic { nw = nextobj; nextobj++ }   /* node_alloc */
	do
	:: u == NU -> break
	:: else ->
		read_begin(me, old);
		assert(!freed[old]);             /* copy_into(clone, old) */
		commit(me);                      /* the CAS is a locked instruction */
		atomic {                         /* release CAS on cur */
			if
			:: cur == old -> cur = nw; won = true
			:: else -> won = false
			fi
		}
		read_end(me, old);
		if
		:: won ->
			atomic { retired = retired | (1 << old); incoming = incoming | (1 << old); incoming_n++ }
			if
			:: atomic { !reclaiming -> reclaiming = true } ->
				reclaim(me, false);
				reclaiming = false
			:: else -> skip                  /* someone else reclaims */
			fi;
			u++;
			if
			:: u < NU -> atomic { nw = nextobj; nextobj++ }
			:: else -> skip
			fi
		:: else -> skip                      /* lost: clone again */
		fi
	od;
	/* ak_cow_synchronize: spin for the try-lock, then reclaim(force) */
	atomic { !reclaiming -> reclaiming = true; before = retired };
	reclaim(me, true);
	/* everything retired before the call is freed (the other updater
	 * may retire more meanwhile), and nothing else */
	for (i : 0 .. NOBJ - 1) {
		assert(!(before & (1 << i)) || freed[i]);
		assert(!freed[i] || (retired & (1 << i)))
	}
	reclaiming = false
}

init
{
	byte i;
	atomic {
		if
		:: fence = true
		:: fence = false
		fi;
		for (i : 0 .. NR - 1) { run reader(i) }
		for (i : 0 .. NUP - 1) { run updater(NR + i) }
	}
}
