// Build-time statement of the platforms this package supports.
#if UNITY_WEBGL && !UNITY_EDITOR
#error Atelico Audio does not support WebGL: the browser has no threads, no System.Net.WebSockets.ClientWebSocket and no local processes, so the sidecar cannot be reached. Atelico.Audio.asmdef excludes WebGL; guard your calls with #if !UNITY_WEBGL.
#endif

namespace Atelico.Audio
{
    /// <summary>Which platforms the runtime assembly is built for.</summary>
    public static class PlatformSupport
    {
        /// <summary>Platforms excluded in Atelico.Audio.asmdef (the assembly does not exist there).</summary>
        public static readonly string[] Excluded = { "WebGL" };
    }
}
