// An ordered string-keyed map: msgpack maps keep their key order so encoding is canonical.
using System;
using System.Collections;
using System.Collections.Generic;

namespace Atelico.Audio.Protocol
{
    /// <summary>
    /// An insertion-ordered map with string keys, the value type of msgpack and JSON objects.
    /// Values are null, bool, long, ulong, double, string, byte[], MsgMap or List&lt;object&gt;.
    /// Lookups are linear: protocol maps hold a handful of keys.
    /// </summary>
    public sealed class MsgMap : IEnumerable<KeyValuePair<string, object>>
    {
        private readonly List<KeyValuePair<string, object>> _entries = new List<KeyValuePair<string, object>>();

        /// <summary>Number of keys.</summary>
        public int Count { get { return _entries.Count; } }

        /// <summary>The keys in insertion order.</summary>
        public IEnumerable<string> Keys
        {
            get
            {
                foreach (var entry in _entries)
                {
                    yield return entry.Key;
                }
            }
        }

        /// <summary>Value of <paramref name="key"/>, or null when absent. Setting replaces in place or appends.</summary>
        public object this[string key]
        {
            get
            {
                object value;
                return TryGetValue(key, out value) ? value : null;
            }
            set { Set(key, value); }
        }

        /// <summary>Set <paramref name="key"/> (replacing in place, or appending) and return this map.</summary>
        public MsgMap Set(string key, object value)
        {
            if (key == null)
            {
                throw new ArgumentNullException("key");
            }
            int index = IndexOf(key);
            if (index >= 0)
            {
                _entries[index] = new KeyValuePair<string, object>(key, value);
            }
            else
            {
                _entries.Add(new KeyValuePair<string, object>(key, value));
            }
            return this;
        }

        /// <summary>Set <paramref name="key"/> only when <paramref name="value"/> is not null.</summary>
        public MsgMap SetIfNotNull(string key, object value)
        {
            if (value != null)
            {
                Set(key, value);
            }
            return this;
        }

        /// <summary>Collection-initializer support: same as <see cref="Set"/>.</summary>
        public void Add(string key, object value)
        {
            Set(key, value);
        }

        public bool ContainsKey(string key)
        {
            return IndexOf(key) >= 0;
        }

        public bool TryGetValue(string key, out object value)
        {
            int index = IndexOf(key);
            if (index >= 0)
            {
                value = _entries[index].Value;
                return true;
            }
            value = null;
            return false;
        }

        public bool Remove(string key)
        {
            int index = IndexOf(key);
            if (index < 0)
            {
                return false;
            }
            _entries.RemoveAt(index);
            return true;
        }

        /// <summary>The string at <paramref name="key"/>, or <paramref name="fallback"/> when absent or not a string.</summary>
        public string GetString(string key, string fallback = null)
        {
            var value = this[key] as string;
            return value ?? fallback;
        }

        /// <summary>The integer at <paramref name="key"/> (a whole double counts), or <paramref name="fallback"/>.</summary>
        public long GetLong(string key, long fallback = 0)
        {
            object value = this[key];
            if (value is long)
            {
                return (long)value;
            }
            if (value is ulong && (ulong)value <= long.MaxValue)
            {
                return (long)(ulong)value;
            }
            if (value is double && Math.Floor((double)value) == (double)value)
            {
                return (long)(double)value;
            }
            return fallback;
        }

        /// <summary>The number at <paramref name="key"/> as a double (ints count), or <paramref name="fallback"/>.</summary>
        public double GetDouble(string key, double fallback = 0.0)
        {
            object value = this[key];
            if (value is double)
            {
                return (double)value;
            }
            if (value is long)
            {
                return (long)value;
            }
            if (value is ulong)
            {
                return (ulong)value;
            }
            return fallback;
        }

        public bool GetBool(string key, bool fallback = false)
        {
            object value = this[key];
            return value is bool ? (bool)value : fallback;
        }

        public MsgMap GetMap(string key)
        {
            return this[key] as MsgMap;
        }

        public List<object> GetList(string key)
        {
            return this[key] as List<object>;
        }

        public byte[] GetBytes(string key)
        {
            return this[key] as byte[];
        }

        public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
        {
            return _entries.GetEnumerator();
        }

        IEnumerator IEnumerable.GetEnumerator()
        {
            return GetEnumerator();
        }

        private int IndexOf(string key)
        {
            for (int i = 0; i < _entries.Count; i++)
            {
                if (string.Equals(_entries[i].Key, key, StringComparison.Ordinal))
                {
                    return i;
                }
            }
            return -1;
        }
    }
}
