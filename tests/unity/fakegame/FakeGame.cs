// A stand-in exported game for tests/unity/engine/ShippingTests.cs: a separate process that launches the
// bundle beside it as a Linux player does (PlayerSidecar), prints "READY <sidecar pid>" once it is ready,
// then runs until its stdin ends or it is killed, never stopping the sidecar itself.
using System;
using System.Threading;
using Atelico.Audio.Sidecar;

internal static class FakeGame
{
    private static int Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: Atelico.FakeGame.exe DATA_PATH LOG_PATH");
            return 2;
        }
        PlayerSidecar.Launch(BundlePlatform.Linux, args[0], args[1]);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (PlayerSidecar.State == "starting" && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        if (PlayerSidecar.State != "ready")
        {
            Console.WriteLine("FAILED " + PlayerSidecar.State + " " + PlayerSidecar.Error);
            return 1;
        }
        Console.WriteLine("READY " + PlayerSidecar.Sidecar.Pid);
        Console.Out.Flush();
        Console.In.ReadToEnd();
        return 0;
    }
}
