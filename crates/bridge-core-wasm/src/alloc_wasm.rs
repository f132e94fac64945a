//! The module's allocator on wasm32: power-of-two size classes with a free
//! list each, carved from `memory.grow`n pages. The machine holds a few
//! small vectors that grow and shrink, so freed blocks are reused at once
//! and nothing is returned to the host (wasm memory cannot shrink). The
//! module runs on one thread (one export at a time), which is what makes
//! the unsynchronised state below sound.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::ptr;

/// Classes 16, 32, ... 2^(MIN_SHIFT + CLASSES - 1) bytes; larger blocks are
/// whole pages.
const MIN_SHIFT: usize = 4;
const CLASSES: usize = 13; // up to 64 KiB
const PAGE: usize = 65536;

struct State {
    free: [*mut u8; CLASSES],
    /// The unused part of the last page(s) grown for small blocks.
    next: usize,
    end: usize,
}

struct Allocator(UnsafeCell<State>);

// SAFETY: wasm32-unknown-unknown without the atomics feature runs this
// module on one thread, and an export runs to completion before the next,
// so `State` is never touched from two places at once.
unsafe impl Sync for Allocator {}

#[global_allocator]
static ALLOC: Allocator = Allocator(UnsafeCell::new(State {
    free: [ptr::null_mut(); CLASSES],
    next: 0,
    end: 0,
}));

fn class_of(layout: &Layout) -> usize {
    let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    (usize::BITS - (size - 1).leading_zeros()) as usize - MIN_SHIFT
}

fn grow(pages: usize) -> Option<usize> {
    let before = wasm32::memory_grow(0, pages);
    (before != usize::MAX).then(|| before * PAGE)
}

// SAFETY (of the impl): blocks are handed out once until freed, each
// aligned to its class size (a power of two at least as large as the
// layout's alignment, carved from page-aligned memory at multiples of its
// size), and `dealloc` gets back exactly what `alloc` gave for the same
// layout, as `GlobalAlloc` requires of its callers.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded (see `impl Sync`); no other borrow of the
        // state is live while this function runs.
        let st = unsafe { &mut *self.0.get() };
        let class = class_of(&layout);
        if class >= CLASSES {
            let pages = layout.size().div_ceil(PAGE);
            return grow(pages).map_or(ptr::null_mut(), |a| a as *mut u8);
        }
        let head = st.free[class];
        if !head.is_null() {
            // SAFETY: `head` is a freed block of this class; its first word
            // holds the next free block (written by `dealloc`).
            st.free[class] = unsafe { *(head as *mut *mut u8) };
            return head;
        }
        let size = 1usize << (class + MIN_SHIFT);
        let start = (st.next + size - 1) & !(size - 1);
        if start + size > st.end || st.end == 0 {
            let Some(base) = grow(size.div_ceil(PAGE).max(1)) else {
                return ptr::null_mut();
            };
            st.next = base;
            st.end = base + size.div_ceil(PAGE).max(1) * PAGE;
            let start = st.next;
            st.next = start + size;
            return start as *mut u8;
        }
        st.next = start + size;
        start as *mut u8
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let class = class_of(&layout);
        if class >= CLASSES {
            return; // whole pages: kept (rare; wasm memory cannot shrink)
        }
        // SAFETY: single-threaded (see `impl Sync`); `block` came from
        // `alloc` with this layout, so it is at least 16 bytes and aligned
        // for a pointer: its first word can link it into the free list.
        unsafe {
            let st = &mut *self.0.get();
            *(block as *mut *mut u8) = st.free[class];
            st.free[class] = block;
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    wasm32::unreachable()
}
