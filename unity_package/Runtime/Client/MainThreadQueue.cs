// Thread-safe queue of callbacks that the main thread drains once per frame.
using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Atelico.Audio
{
    /// <summary>Where user-facing callbacks run. <see cref="AtelicoEngine"/> drains it in Update.</summary>
    public interface IMainThreadDispatcher
    {
        /// <summary>Queue <paramref name="action"/> to run on the main thread; safe from any thread.</summary>
        void Post(Action action);

        /// <summary>True when called on the thread that drains the queue.</summary>
        bool IsMainThread { get; }
    }

    /// <summary>
    /// A lock-free queue of actions posted from socket threads and run by <see cref="Drain"/> on the
    /// main thread. One Drain runs only the actions queued when it started, so a callback that posts
    /// another one never starves the frame. A throwing callback is reported to
    /// <see cref="CallbackFailed"/> and does not stop the others.
    /// </summary>
    public sealed class MainThreadQueue : IMainThreadDispatcher
    {
        private readonly ConcurrentQueue<Action> _queue = new ConcurrentQueue<Action>();
        private int _mainThreadId;

        /// <summary>Create a queue bound to the calling thread.</summary>
        public MainThreadQueue()
        {
            _mainThreadId = Thread.CurrentThread.ManagedThreadId;
        }

        /// <summary>Receives exceptions thrown by callbacks (the engine logs them with Debug.LogException).</summary>
        public Action<Exception> CallbackFailed { get; set; }

        /// <summary>Actions waiting for the next <see cref="Drain"/>.</summary>
        public int Pending { get { return _queue.Count; } }

        public bool IsMainThread { get { return Thread.CurrentThread.ManagedThreadId == _mainThreadId; } }

        /// <summary>Make the calling thread the main thread (AtelicoEngine.Awake calls this).</summary>
        public void BindToCurrentThread()
        {
            _mainThreadId = Thread.CurrentThread.ManagedThreadId;
        }

        public void Post(Action action)
        {
            if (action == null)
            {
                throw new ArgumentNullException("action");
            }
            _queue.Enqueue(action);
        }

        /// <summary>Run the actions queued so far (at most <paramref name="maxActions"/>) on the calling thread.</summary>
        /// <returns>How many actions ran.</returns>
        /// <exception cref="InvalidOperationException">When called off the bound main thread.</exception>
        public int Drain(int maxActions = int.MaxValue)
        {
            if (!IsMainThread)
            {
                throw new InvalidOperationException("MainThreadQueue.Drain must run on the thread it is bound to");
            }
            int budget = Math.Min(maxActions, _queue.Count);
            int ran = 0;
            Action action;
            while (ran < budget && _queue.TryDequeue(out action))
            {
                ran++;
                try
                {
                    action();
                }
                catch (Exception exc)
                {
                    var handler = CallbackFailed;
                    if (handler != null)
                    {
                        handler(exc);
                    }
                }
            }
            return ran;
        }
    }
}
